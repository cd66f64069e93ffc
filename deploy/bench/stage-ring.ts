/**
 * Stage invite as people see it: the host's Invite click in /studio → the call dialog on the
 * watching viewer's /live/:id, in real Chromium on the real stack (web/test/stage-ring.ts; the
 * same flow is a test in npm test with a looser bound).
 */
import { loadavg } from 'node:os';
import { writeResult } from './lib/result';
import { summarize } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { startStack } = await import('../../web/test/stack');
const { openBrowser } = await import('../../web/test/browser');
const { median, ringViewer } = await import('../../web/test/stage-ring');

const CALLS = Number(process.env.BENCH_RING_CALLS ?? 20);
const t0 = performance.now();
const stack = await startStack({ media: true });
const browser = await openBrowser(() => stack.url);
const notMeasured: string[] = [];
let delays: number[] = [];
const loadBefore = loadavg()[0]!;
try {
  delays = await ringViewer(stack, browser, CALLS);
} catch (err) {
  notMeasured.push(`stopped early: ${(err as Error).message}`);
} finally {
  await browser.close();
  await stack.stop();
}
const load1 = Math.round(Math.max(loadBefore, loadavg()[0]!) * 100) / 100;
const clickToCall = summarize(delays);
process.stderr.write(`[stage-ring] Invite click → call on screen: median ${median(delays)} ms ${JSON.stringify(clickToCall)}; load ${load1}\n`);
await writeResult({
  name: 'stage-ring',
  title: 'Stage invite: Invite click → the call on the viewer’s screen (Chromium)',
  method: `web/test/stack.ts (control plane with PostgreSQL in front of the built web app, an in-process media node), Debian's headless Chromium. A host live from /studio (fake camera) and a signed-in viewer decoding it on /live/:id. ${CALLS} calls: the host types the viewer's handle and clicks Invite; delay = the click (a capturing listener in the host's page) → the call dialog in the viewer's DOM (a MutationObserver), both Date.now() on one machine; the viewer declines and the host sees it before the next call. The machine's 1-minute load average is given beside it.`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: delays.length ? { calls: CALLS, medianMs: median(delays), clickToCallMs: clickToCall, loadAverage1m: load1 } : null,
});
process.exit(0);
