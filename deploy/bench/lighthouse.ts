/**
 * Lighthouse 12.2.3 (its default mobile settings: simulated slow 4G, 4× CPU slowdown) on the five
 * public pages, served as users get them: the control plane in front of the built web app, with a
 * media node. The pages have real content (web/test/public-pages.ts): a host with a profile and a
 * recording, and a live of theirs that is live, its host publishing from Chromium (/dev/publish).
 * Each page is audited RUNS times in a fresh tab; the median of each category is the result. The
 * machine's load average is taken beside every run: the machine is shared, and Lighthouse's
 * timings (so the performance score) follow the CPU it gets.
 */
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { launchChromium } from '@podlive/shared/testing/chromium';
import { CATEGORIES, startLighthouse, type Category, type PageAudit } from '../../web/test/lighthouse';
import { writeResult } from './lib/result';

process.env.LOG_LEVEL ??= 'warn';
const { startStack } = await import('../../web/test/stack');
const { publicPages } = await import('../../web/test/public-pages');
/** A directory to keep every run's whole Lighthouse report in (to see where the time goes). */
const REPORTS = process.env.BENCH_LIGHTHOUSE_REPORTS;

const RUNS = Number(process.env.BENCH_LIGHTHOUSE_RUNS ?? 3);
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? NaN;
};
const load1 = () => Math.round(loadavg()[0]! * 100) / 100;

export interface LighthousePage {
  page: string;
  path: string;
  /** Median of the runs, per category. */
  scores: Record<Category, number>;
  /** Median of the runs, ms (CLS unitless). */
  metrics: Record<string, number>;
  runs: { scores: PageAudit['scores']; metrics?: Record<string, number>; benchmarkIndex: number; load1: number; failing: string[]; transferBytes?: Record<string, number> }[];
}

const t0 = performance.now();
if (REPORTS) await mkdir(REPORTS, { recursive: true });
const [stack, browser] = await Promise.all([startStack({ media: true }), launchChromium()]);
const notMeasured: string[] = [];
const results: LighthousePage[] = [];
const loadBefore = load1();
try {
  const { pages, join } = await publicPages(stack);
  const ws = `${join.url}/?token=${encodeURIComponent(join.token)}`;
  const host = await (await browser.newContext()).newPage();
  await host.goto(`${stack.url}/dev/publish?ws=${encodeURIComponent(ws)}`);
  await host.getByText(/Live: 2 tracks published/).waitFor({ timeout: 30_000 });
  const lighthouse = await startLighthouse();
  try {
    for (const [page, path] of Object.entries(pages)) {
      const runs: LighthousePage['runs'] = [];
      for (let i = 0; i < RUNS; i++) {
        const before = load1();
        const audit = await lighthouse.audit(`${stack.url}${path}`, CATEGORIES, { saveTo: REPORTS && `${REPORTS}/${page}-${i + 1}.json`, audits: ['resource-summary'] });
        runs.push({
          scores: audit.scores,
          metrics: audit.metrics,
          benchmarkIndex: audit.benchmarkIndex,
          load1: Math.max(before, load1()),
          failing: audit.failing.map((f) => `${f.id}${f.displayValue ? ` (${f.displayValue})` : ''}`),
          transferBytes: audit.transferBytes,
        });
        const s = audit.scores;
        process.stderr.write(`[lighthouse] ${page} run ${i + 1}/${RUNS}: performance ${s.performance} · accessibility ${s.accessibility} · best practices ${s['best-practices']} · SEO ${s.seo} · load ${runs.at(-1)?.load1} · benchmarkIndex ${audit.benchmarkIndex}${audit.failing.length ? `\n  below 1: ${runs.at(-1)?.failing.join(', ')}` : ''}\n`);
      }
      const scores = Object.fromEntries(CATEGORIES.map((c) => [c, median(runs.map((r) => r.scores[c] ?? NaN))])) as Record<Category, number>;
      const metricNames = Object.keys(runs[0]?.metrics ?? {});
      const metrics = Object.fromEntries(metricNames.map((m) => [m, median(runs.map((r) => r.metrics?.[m] ?? NaN))]));
      results.push({ page, path: page === 'live' ? '/live/:id' : page === 'profile' ? '/@handle' : path, scores, metrics, runs });
    }
  } finally {
    await lighthouse.close();
  }
} catch (err) {
  notMeasured.push(`stopped early: ${(err as Error).message}`);
}
await browser.close();
await stack.stop();

process.stderr.write(`\n[lighthouse] median of ${RUNS} runs (load average ${loadBefore} at the start, ${load1()} at the end):\n`);
for (const r of results) {
  process.stderr.write(`  ${r.path.padEnd(12)} performance ${r.scores.performance} · accessibility ${r.scores.accessibility} · best practices ${r.scores['best-practices']} · SEO ${r.scores.seo} · TBT ${Math.round(r.metrics['total-blocking-time'] ?? NaN)} ms · TTI ${Math.round(r.metrics.interactive ?? NaN)} ms · JS ${Math.round((r.runs[0]?.transferBytes?.script ?? NaN) / 1024)} KB · load ${r.runs.map((x) => x.load1).join('/')}\n`);
}
await writeResult({
  name: 'lighthouse',
  title: 'Lighthouse (Chromium)',
  method: `Lighthouse 12.2.3 with its default (mobile) settings: simulated slow 4G and 4× CPU slowdown, a fresh tab with cleared storage for each run, Debian's headless Chromium started by chrome-launcher. web/test/stack.ts: the control plane (fresh PostgreSQL database) in front of the built web app, as users get the pages, with a media node in this process. Content made through the API (web/test/public-pages.ts): a host with a bio, an avatar and a finished recording on /@handle, and a live of theirs that is live, its host publishing H.264 simulcast + Opus from /dev/publish in another Chromium; visitors are signed out. Each page ${RUNS} runs; the median of each category and metric is given, every run's scores and the machine's 1-minute load average beside it (the machine is shared; Lighthouse's timings follow the CPU it gets).`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: results.length ? { runs: RUNS, loadAverage: { start: loadBefore, end: load1() }, pages: results } : null,
});
process.exit(0);
