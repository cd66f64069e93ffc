import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTargetFiles } from '../monitoring/targets';
import { DASHBOARDS_DIR, MONITORING_DIR, RULES_FILE, dashboardQueries, metricNamesIn, ruleExpressions } from '../monitoring/queries';

const run = promisify(execFile);
/** promtool's output (it prints its verdict on stdout, problems on stderr), or its failure with both. */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('promtool', args);
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed: ${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

describe('deploy/monitoring: Prometheus configuration, alert rules and Grafana dashboards', () => {
  let dir: string;
  beforeAll(async () => {
    // The configuration as shipped, with discovery files as `npm run fleet -- targets` writes them.
    dir = await mkdtemp(join(tmpdir(), 'podlive-prom-config-'));
    await cp(MONITORING_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('.ts') });
    await writeTargetFiles(join(dir, 'targets'), {
      server: [{ job: 'server', instance: 'web-1:3000', address: '10.0.0.5:9464', ts: Date.now() }],
      sfu: [{ job: 'sfu', instance: 'sfu-a', address: '10.0.0.7:9465', ts: Date.now() }],
      recorder: [],
    });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('promtool check config passes, with the rules it loads, and the discovery files are what file_sd reads', async () => {
    const out = await promtool('check', 'config', join(dir, 'prometheus.yml'));
    expect(out).toMatch(/SUCCESS: .*prometheus\.yml is valid prometheus config file syntax/);
    expect(out).toMatch(/SUCCESS: 1 rule files found/);
    expect(JSON.parse(await readFile(join(dir, 'targets', 'sfu.json'), 'utf8'))).toEqual([{ targets: ['10.0.0.7:9465'], labels: { instance: 'sfu-a' } }]);
    expect(JSON.parse(await readFile(join(dir, 'targets', 'recorder.json'), 'utf8'))).toEqual([]);
  });

  it('promtool check rules passes, and each of the issue’s alerts is there', async () => {
    expect(await promtool('check', 'rules', RULES_FILE)).toMatch(/SUCCESS: 10 rules found/);
    const text = await readFile(RULES_FILE, 'utf8');
    const alerts = [...text.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
    expect(alerts).toEqual(['PodliveProcessDown', 'PodliveWorkerCpuHigh', 'PodliveConsumerLoss', 'PodliveRecorderUploadLag', 'PodliveFinishJobFailed', 'PodliveServer5xx', 'PodliveInviteDeliverySlow']);
  });

  it('promtool’s unit tests make every alert fire on its series (and stay quiet on healthy ones)', async () => {
    const out = await promtool('test', 'rules', join(MONITORING_DIR, 'rules', 'podlive.rules.test.yml'));
    expect(out).toMatch(/SUCCESS/);
    const tested = new Set([...(await readFile(join(MONITORING_DIR, 'rules', 'podlive.rules.test.yml'), 'utf8')).matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    const defined = [...(await readFile(RULES_FILE, 'utf8')).matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]);
    expect(defined.filter((name) => !tested.has(name))).toEqual([]);
  });

  it('the dashboards are valid Grafana JSON on the provisioned Prometheus, and every recording rule they use exists', async () => {
    const files = (await readdir(DASHBOARDS_DIR)).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(['podlive-fleet.json', 'podlive-live.json', 'podlive-recorder.json']);
    const datasources = await readFile(join(MONITORING_DIR, 'grafana', 'provisioning', 'datasources', 'podlive.yml'), 'utf8');
    const uid = /uid: (\S+)/.exec(datasources)?.[1];
    for (const file of files) {
      const board = JSON.parse(await readFile(join(DASHBOARDS_DIR, file), 'utf8')) as { uid: string; title: string; panels: Array<{ id: number; datasource: { uid: string }; gridPos: { w: number }; targets: unknown[] }> };
      expect(board.uid).toBe(file.replace('.json', ''));
      expect(board.panels.length).toBeGreaterThan(5);
      expect(new Set(board.panels.map((p) => p.id)).size).toBe(board.panels.length);
      for (const panel of board.panels) {
        expect(panel.datasource.uid).toBe(uid);
        expect(panel.gridPos.w).toBeLessThanOrEqual(24);
        expect(panel.targets.length).toBeGreaterThan(0);
      }
    }
    const { recorded } = await ruleExpressions();
    const queries = await dashboardQueries();
    expect(queries.filter((q) => metricNamesIn(q.expr).length === 0)).toEqual([]);
    const unknownRules = queries.flatMap((q) => metricNamesIn(q.expr)).filter((name) => name.includes(':') && !recorded.includes(name));
    expect(unknownRules).toEqual([]);
  });
});
