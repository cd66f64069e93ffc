import { writeFile } from 'node:fs/promises';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse, { type Flags, type Result } from 'lighthouse';

/** Lighthouse's four categories, as its report names them. */
export const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'] as const;
export type Category = (typeof CATEGORIES)[number];

export interface PageAudit {
  url: string;
  /** 0–100 per category that was run. */
  scores: Partial<Record<Category, number>>;
  /** Audits of the run categories that scored below 1 (title: what they found), for a failure message. */
  failing: { id: string; title: string; displayValue?: string }[];
  /** Lighthouse's own measure of this machine's speed while it ran (higher is faster; see its docs). */
  benchmarkIndex: number;
  /** The metrics of the performance category, ms (CLS unitless), when it was run. */
  metrics?: Record<string, number>;
  /** Warnings Lighthouse gave about the run itself (e.g. the machine was too slow). */
  runWarnings: string[];
  /** Bytes over the wire (compressed as sent) by resource type ('script', 'document', 'total'...), from the `resource-summary` audit when it was run. */
  transferBytes?: Record<string, number>;
  /** The audits asked for by id besides the categories' (`AuditOptions.audits`): score (null: not applicable or informative) and what they show. */
  extra: Record<string, { score: number | null; displayValue?: string }>;
}

export interface AuditOptions {
  /** Also writes Lighthouse's whole report (JSON, for its viewer) there. */
  saveTo?: string;
  /** Audits to run besides the categories' (e.g. 'resource-summary', 'uses-text-compression'). */
  audits?: string[];
}

export interface LighthouseRunner {
  audit(url: string, categories: readonly Category[], options?: AuditOptions): Promise<PageAudit>;
  close(): Promise<void>;
}

const METRICS = ['first-contentful-paint', 'largest-contentful-paint', 'total-blocking-time', 'cumulative-layout-shift', 'speed-index', 'interactive'] as const;

/**
 * Debian's Chromium (never a downloaded one) started by chrome-launcher, Lighthouse's own launcher,
 * with the flags that keep it off the network this machine does not have (see
 * shared/notes/ENVIRONMENT.md). Lighthouse's default settings otherwise: a mobile device, its
 * simulated slow 4G and 4× CPU slowdown, each URL loaded in a fresh tab with storage cleared.
 */
export async function startLighthouse(): Promise<LighthouseRunner> {
  const chrome = await chromeLauncher.launch({
    chromePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-sync', '--disable-component-update'],
    logLevel: 'silent',
  });
  return {
    async audit(url, categories, { saveTo, audits = [] } = {}) {
      const flags: Flags = { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: [...categories], onlyAudits: audits, disableFullPageScreenshot: true };
      const run = await lighthouse(url, flags);
      if (run === undefined) throw new Error(`Lighthouse returned nothing for ${url}`);
      if (saveTo !== undefined) await writeFile(saveTo, JSON.stringify(run.lhr));
      return summarize(run.lhr, categories, audits);
    },
    async close() {
      chrome.kill();
    },
  };
}

function summarize(lhr: Result, categories: readonly Category[], audits: readonly string[]): PageAudit {
  if (lhr.runtimeError) throw new Error(`Lighthouse could not audit ${lhr.requestedUrl}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const scores: Partial<Record<Category, number>> = {};
  const failing: PageAudit['failing'] = [];
  for (const id of categories) {
    const category = lhr.categories[id];
    if (category === undefined) continue;
    scores[id] = Math.round((category.score ?? 0) * 100);
    for (const ref of category.auditRefs) {
      const audit = lhr.audits[ref.id];
      // Weightless performance audits are diagnostics (opportunities), not what the score counts.
      if (audit === undefined || audit.score === null || audit.score >= 1 || (id === 'performance' && ref.weight === 0)) continue;
      failing.push({ id: audit.id, title: audit.title, ...(audit.displayValue ? { displayValue: audit.displayValue } : {}) });
    }
  }
  const metrics = categories.includes('performance')
    ? Object.fromEntries(METRICS.map((m) => [m, Math.round((lhr.audits[m]?.numericValue ?? NaN) * 1000) / 1000]))
    : undefined;
  const extra = Object.fromEntries(
    audits.map((id) => {
      const audit = lhr.audits[id];
      return [id, { score: audit?.score ?? null, ...(audit?.displayValue ? { displayValue: audit.displayValue } : {}) }];
    }),
  );
  const summary = lhr.audits['resource-summary']?.details;
  const transferBytes =
    summary?.type === 'table' ? Object.fromEntries(summary.items.map((item) => [String(item.resourceType), Number(item.transferSize)])) : undefined;
  return { url: lhr.finalDisplayedUrl, scores, failing, benchmarkIndex: lhr.environment.benchmarkIndex, metrics, runWarnings: lhr.runWarnings, transferBytes, extra };
}
