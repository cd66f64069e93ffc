/**
 * Join time in real Chromium on the real stack (control plane + built web app + an in-process
 * media node): a viewer opens /live/:id in a fresh browser context; join time = the page's token
 * request starting (its Resource Timing entry) → the first decoded video frame presented
 * (requestVideoFrameCallback), both on the page's own clock. The host publishes from Chromium too
 * (/dev/publish with the host token from POST /api/live/:id/start).
 */
import { join } from 'node:path';
import { launchChromium } from '@podlive/shared/testing/chromium';
import { goLive, signUp } from './lib/client';
import { writeResult } from './lib/result';
import { round, summarize } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { startStack } = await import('../../web/test/stack');

const N = Number(process.env.BENCH_JOIN_N ?? 12);
type JoinWindow = { benchFirstFrame?: number };
const t0 = performance.now();
const [stack, browser] = await Promise.all([startStack({ media: true }), launchChromium()]);
const notMeasured: string[] = [];
const samples: number[] = [];
const navToFrame: number[] = [];
try {
  const host = await signUp(stack.url, join(stack.dataDir, 'outbox'));
  const live = await goLive(stack.url, host);
  const ws = `${live.join.url}/?token=${encodeURIComponent(live.join.token)}`;
  const hostPage = await (await browser.newContext()).newPage();
  await hostPage.goto(`${stack.url}/dev/publish?ws=${encodeURIComponent(ws)}`);
  await hostPage.getByText(/Live: 2 tracks published/).waitFor({ timeout: 30_000 });
  for (let i = 0; i < N; i++) {
    const context = await browser.newContext({ baseURL: stack.url });
    await context.addInitScript(() => {
      // First decoded frame: a video element reporting a size (polled every 5 ms) or presenting a frame.
      const w = window as JoinWindow;
      const hooked = new WeakSet<HTMLVideoElement>();
      const timer = setInterval(() => {
        for (const v of document.querySelectorAll('video')) {
          if (!hooked.has(v)) {
            hooked.add(v);
            v.requestVideoFrameCallback((now) => void (w.benchFirstFrame ??= now));
          }
          if (v.videoWidth > 0) w.benchFirstFrame ??= performance.now();
        }
        if (w.benchFirstFrame !== undefined) clearInterval(timer);
      }, 5);
    });
    const page = await context.newPage();
    await page.goto(`/live/${live.id}`);
    await page.waitForFunction(() => (window as JoinWindow).benchFirstFrame !== undefined, undefined, { timeout: 30_000 });
    const t = await page.evaluate(() => {
      const token = performance.getEntriesByType('resource').find((e) => /\/token(\?|$)/.test(e.name));
      return { token: token?.startTime, frame: (window as JoinWindow).benchFirstFrame };
    });
    if (t.token !== undefined && t.frame !== undefined) samples.push(t.frame - t.token);
    if (t.frame !== undefined) navToFrame.push(t.frame);
    process.stderr.write(`[join-time] viewer ${i}: token→frame ${t.token === undefined ? 'no token entry' : round((t.frame ?? NaN) - t.token)} ms, navigation→frame ${round(t.frame ?? NaN)} ms\n`);
    await context.close();
  }
} catch (err) {
  notMeasured.push(`stopped early: ${(err as Error).message}`);
}
await browser.close();
await stack.stop();
await writeResult({
  name: 'join-time',
  title: 'Join time (Chromium)',
  method: `web/test/stack.ts: the control plane (fresh PostgreSQL database) in front of the built web app, with a media node (1 worker) in this process; Debian's headless Chromium. A host publishes H.264 simulcast + Opus from /dev/publish (fake camera) with the token of POST /api/live/:id/start. ${N} anonymous viewers, one after another, each in a fresh browser context, open /live/:id. Join time = start of the page's media token request (Resource Timing) → first decoded frame presented (requestVideoFrameCallback), same page clock. Navigation → first frame (page load included) is given beside it; the ratio is token→frame / navigation→frame.`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: { tokenToFirstFrameMs: summarize(samples), navigationToFirstFrameMs: summarize(navToFrame) },
});
process.exit(0);
