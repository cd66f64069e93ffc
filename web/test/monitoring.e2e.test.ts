import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { latestCode } from '@podlive/shared/testing/outbox';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';
import { openBrowser, type BrowserHarness } from './browser';
import { FleetNodes } from './fleet-nodes';
import { signIn } from './stack';
import { goLiveFromStudio } from './studio';
import { dashboardQueries, metricNamesIn, ruleExpressions } from '../../deploy/monitoring/queries';
import { prometheusCopy, PrometheusApi } from './monitoring';

const root = fileURLToPath(new URL('../..', import.meta.url));
const KEYS = testKeyPair();
const LOAD_VIEWERS = 100;

type TestWindow = { podliveNode?: string | null };

/**
 * Monitoring end to end: the processes of `npm start` (control plane, SFU node, recorder, web app)
 * and one more SFU node started with the fleet script, all announcing their /metrics in Redis;
 * `npm run fleet -- targets --watch` writing Prometheus' file discovery from that; a real
 * Prometheus (Debian's) on deploy/monitoring's configuration and rules, with 1 s intervals; a live
 * from the studio in Chromium and a viewer page.
 */
describe('monitoring: a real Prometheus scraping every PodLive process', () => {
  const nodes = new FleetNodes(KEYS, { SFU_CONNECTS_PER_MINUTE: '0' });
  const children: ChildProcess[] = [];
  let dir: string;
  let url: string;
  let prometheus: PrometheusApi;
  let browser: BrowserHarness;
  let sessionId: string;
  let viewer: Page;
  let launcher: ReturnType<typeof spawned>;
  let discovery: ReturnType<typeof spawned>;

  const spawned = (command: string, args: string[], env: Record<string, string>, cwd = root) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    children.push(child);
    /** Resolves when the output shows `text`; rejects if the process exits first. */
    const waitFor = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const check = () => output.includes(text) && resolve();
        child.stdout?.on('data', check);
        child.once('exit', (code) => reject(new Error(`${command} exited (${code}) before "${text}":\n${output}`)));
        check();
      });
    return { child, output: () => output, waitFor };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podlive-monitoring-'));
    const [port, web, recorder, sfu, sfuControl, rtc, promPort] = await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort(), freeRtcPortBase(1), freeTcpPort()]);
    url = `http://127.0.0.1:${port}`;
    launcher = spawned(process.execPath, ['deploy/dev/start.mjs'], {
      ...nodes.env, PORT: String(port), WEB_PORT: String(web), RECORDER_PORT: String(recorder), SFU_PORT: String(sfu), SFU_CONTROL_PORT: String(sfuControl),
      PUBLIC_URL: url, RTC_PORT_BASE: String(rtc), SFU_WORKERS: '1', RECORDER_CHUNK_SECONDS: '4', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn', MEDIA_TOKEN_PRIVATE_KEY: KEYS.privatePem,
    });
    browser = await openBrowser(() => url);
    await launcher.waitFor('PodLive is running');
    // One more node, as an operator adds one: carries nothing here (npm start's control plane uses its own node), then dies.
    nodes.nodeEnv.SERVER_URL = url;
    await nodes.start('spare', '127.0.0.17');

    const config = await prometheusCopy(join(dir, 'prometheus'));
    discovery = spawned(process.execPath, ['--import', 'tsx', 'deploy/fleet/cli.ts', 'targets', '--out', join(dir, 'prometheus', 'targets'), '--watch'], nodes.env);
    await discovery.waitFor('targets written');
    const prom = spawned('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], {});
    prometheus = new PrometheusApi(`http://127.0.0.1:${promPort}`, prom.output);
    await prometheus.ready();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    }
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await nodes.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('scrapes npm start’s control plane, SFU node and recorder, and the fleet’s extra node, found through Redis, and each reports its lives, viewers, consumers and packets', async () => {
    const host = await browser.newPage();
    await signIn({ url, latestCode: (to) => latestCode(join(dir, 'data', 'outbox'), to) }, host, { handle: 'metrics_host', displayName: 'Metrics Host', path: '/studio' });
    sessionId = await goLiveFromStudio(host, 'Watched by Prometheus').catch((err: unknown) => {
      throw new Error(`going live failed; npm start said:\n${launcher.output().slice(-4000)}`, { cause: err });
    });
    viewer = await browser.newPage();
    await viewer.goto(`/live/${sessionId}`);
    await expect.poll(() => viewer.evaluate(() => (window as TestWindow).podliveNode ?? null), { timeout: 30_000 }).toBe('local');

    await expect.poll(() => prometheus.upByJob(), { timeout: 30_000 }).toEqual({ server: 1, sfu: 2, recorder: 1 });
    // Every process's own figures, as Prometheus stored them (each > 0).
    const wanted = {
      'server: lives on air': 'podlive_lives{job="server", state="live"}',
      'server: viewers with the page open': 'podlive_viewers{job="server"}',
      'server: /ws connections': 'podlive_ws_connections{job="server"}',
      'sfu: lives': 'podlive_sfu_lives{instance="local"}',
      'sfu: viewers': 'podlive_sfu_viewers{instance="local"}',
      'sfu: consumers': 'sum(podlive_sfu_consumers{instance="local"})',
      'sfu: packets out': 'sum(increase(podlive_sfu_packets_sent_total{instance="local"}[30s]))',
      'sfu: worker CPU sampled': 'count(podlive_sfu_worker_cpu_ratio{instance="local"})',
      'recorder: lives recording': 'podlive_recorder_lives{job="recorder"}',
      'recorder: RTP streams consumed': 'podlive_recorder_consumers{job="recorder"}',
      'recorder: bytes of media written': 'sum(podlive_recorder_bytes_written_total{job="recorder"})',
    };
    await expect
      .poll(async () => Object.fromEntries(await Promise.all(Object.entries(wanted).map(async ([what, q]) => [what, (await prometheus.scalar(q)) > 0]))), { timeout: 90_000, interval: 1000 })
      .toEqual(Object.fromEntries(Object.keys(wanted).map((what) => [what, true])));
  }, 180_000);

  it('every metric the dashboards and the alert rules query is one the processes export', async () => {
    const exported = new Set<string>();
    for (const target of await prometheus.targets()) {
      const text = await (await fetch(target.scrapeUrl)).text();
      for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
        exported.add(name!);
        if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(name! + suffix);
        if (type === 'summary') for (const suffix of ['_sum', '_count']) exported.add(name! + suffix);
      }
    }
    const rules = await ruleExpressions();
    const recorded = new Set(rules.recorded);
    const queries = [...(await dashboardQueries()).map((q) => q.expr), ...rules.exprs];
    const named = new Set(queries.flatMap(metricNamesIn));
    expect(named.size).toBeGreaterThan(30);
    const missing = [...named].filter((name) => (name.includes(':') ? !recorded.has(name) : !exported.has(name) && name !== 'up'));
    expect(missing).toEqual([]);
  });

  it(`no label grows with the audience: ${LOAD_VIEWERS} more viewers add no series beyond fixed sets, and no label is an id`, async () => {
    const before = await prometheus.seriesPerMetric();
    const load = spawned(process.execPath, ['--import', 'tsx', 'load/cli.ts', '--url', url, '--session', sessionId, '--viewers', String(LOAD_VIEWERS), '--rate', '25', '--duration', '20', '--listen', '--no-progress'], {}, join(root, 'sfu'));
    const exited = new Promise<number | null>((resolve) => load.child.once('exit', resolve));
    await expect.poll(() => prometheus.scalar('podlive_sfu_viewers{instance="local"}'), { timeout: 60_000, interval: 1000 }).toBeGreaterThanOrEqual(LOAD_VIEWERS);
    // Scraped again with all of them on: after the count above, two more scrapes.
    await prometheus.scrapesAfter(Date.now(), 2);
    const after = await prometheus.seriesPerMetric();
    const series = await prometheus.series('{__name__=~"podlive_.+"}');
    // Every viewer joined (the series were counted with all of them on). Whether each still
    // received at the very end is the load tester's own verdict on the media (its exit code): a
    // CI run on a loaded machine had 98 of 100 headless viewers receiving at the end, which says
    // nothing about the metrics' labels.
    await exited;
    expect(load.output()).toContain(`${LOAD_VIEWERS}/${LOAD_VIEWERS} joined, 0 failed`);

    const grown = Object.entries(after).filter(([name, n]) => n > (before[name] ?? 0)).map(([name, n]) => `${name} ${before[name] ?? 0} → ${n}`);
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total(after) - total(before), `series that grew: ${grown.join(', ')}`).toBeLessThan(LOAD_VIEWERS / 2);
    for (const [name, n] of Object.entries(after)) expect(n - (before[name] ?? 0), name).toBeLessThan(20);
    // No id in any label: the only live label is `session`, on the top-N viewers gauge.
    const looksLikeId = (value: string) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(value) || /^load:/.test(value) || value.length > 64;
    const offending = series.flatMap((labels) =>
      Object.entries(labels).filter(([label, value]) => !(label === 'session' && labels.__name__ === 'podlive_live_viewers') && label !== '__name__' && looksLikeId(value)).map(([label, value]) => `${labels.__name__}{${label}="${value}"}`),
    );
    expect(offending).toEqual([]);
  }, 120_000);

  it('an SFU node killed with SIGKILL fires PodliveProcessDown (the rule’s window shortened to 2 s)', async () => {
    nodes.kill('spare');
    await expect.poll(() => prometheus.firing('PodliveProcessDown'), { timeout: 30_000, interval: 500 }).toEqual(['sfu/spare']);
    // The test's copy of the rules differs from the shipped one only by that window.
    expect(await prometheus.ruleFor('PodliveProcessDown')).toBe(2);
    await writePlotIfAsked(prometheus);
  }, 60_000);
});

/** MONITORING_PLOT=<file.svg>: the fleet dashboard's main figures over this test, for the README. */
async function writePlotIfAsked(prometheus: PrometheusApi): Promise<void> {
  const file = process.env.MONITORING_PLOT;
  if (!file) return;
  const { lineChart } = await import('../../deploy/bench/lib/svg');
  const series = await Promise.all(
    [
      ['SFU viewers (local)', 'podlive_sfu_viewers{instance="local"}'],
      ['SFU consumers (local)', 'sum(podlive_sfu_consumers{instance="local"})'],
      ['packets out /s ÷ 10', 'sum(rate(podlive_sfu_packets_sent_total{instance="local"}[15s])) / 10'],
      ['worker CPU %', '100 * max(podlive_sfu_worker_cpu_ratio{instance="local"})'],
    ].map(async ([name, q]) => ({ name: name!, points: await prometheus.range(q!) })),
  );
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, lineChart('Fleet dashboard queries, over the monitoring test', 'seconds since Prometheus started (1 s scrapes; node stats sampled every 5 s)', 'value', series));
}

