import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MONITORING_DIR = fileURLToPath(new URL('.', import.meta.url));
export const DASHBOARDS_DIR = join(MONITORING_DIR, 'grafana', 'dashboards');
export const RULES_FILE = join(MONITORING_DIR, 'rules', 'podlive.rules.yml');

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  expr: string;
}

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

/** Every PromQL expression of the Grafana dashboards (panels, rows' panels, template variables). */
export async function dashboardQueries(dir = DASHBOARDS_DIR): Promise<DashboardQuery[]> {
  const queries: DashboardQuery[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.json')).sort()) {
    const board = JSON.parse(await readFile(join(dir, file), 'utf8')) as { title: string; panels: Panel[]; templating?: { list: Array<{ name: string; query?: string | { query?: string } }> } };
    const walk = (panels: Panel[]) => {
      for (const panel of panels) {
        for (const target of panel.targets ?? []) if (target.expr) queries.push({ dashboard: board.title, panel: panel.title ?? '', expr: target.expr });
        walk(panel.panels ?? []);
      }
    };
    walk(board.panels);
    for (const variable of board.templating?.list ?? []) {
      const q = typeof variable.query === 'string' ? variable.query : variable.query?.query;
      if (q) queries.push({ dashboard: board.title, panel: `$${variable.name}`, expr: q });
    }
  }
  return queries;
}

/**
 * The metric names a PromQL expression reads: PodLive's (`podlive_…`), its recording rules
 * (`podlive:…`), prom-client's process defaults (`process_…`, `nodejs_…`) and `up`. Label names
 * and functions never take those forms.
 */
export function metricNamesIn(expr: string): string[] {
  const names = expr.match(/\b(?:podlive[_:][\w:]+|process_\w+|nodejs_\w+)\b|\bup\b(?=\s*[{=<>!)]|\s*$)/g) ?? [];
  return [...new Set(names)];
}

/** The alert and recording rules' expressions. */
export async function ruleExpressions(file = RULES_FILE): Promise<{ recorded: string[]; exprs: string[] }> {
  const text = await readFile(file, 'utf8');
  const recorded = [...text.matchAll(/^\s*- record: (\S+)$/gm)].map((m) => m[1]!);
  // `expr: |` blocks: the indented lines after it.
  const exprs: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = /^(\s*)expr: (.*)$/.exec(line);
    if (!m) return;
    if (m[2] !== '|') return void exprs.push(m[2]!);
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length); j++) body.push(lines[j]!.trim());
    exprs.push(body.join(' ').trim());
  });
  return { recorded, exprs };
}
