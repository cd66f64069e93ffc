/**
 * Join time on the real stack (control plane + built web app + an in-process media node), a host
 * publishing from Chromium (/dev/publish with the host token from POST /api/live/:id/start):
 * 1. Chromium: viewers open /live/:id one after another, each in a fresh browser context; join
 *    time = the page's token request starting (its Resource Timing entry) → the first decoded
 *    video frame presented (requestVideoFrameCallback), both on the page's own clock.
 * 2. Headless: 100 podlive-load viewers join the same live at 20/s through the token route;
 *    join time = token request → every consumer resumed.
 * The machine's load average is read around each part (other work on the two cores shows there).
 */
import { launchChromium } from '@podlive/shared/testing/chromium';
import { writeResult } from './lib/result';
import { round, summarize } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { startStack } = await import('../../web/test/stack');
const { chromiumJoin, headlessJoins, liveWithChromiumHost, loadAverage } = await import('../../web/test/media-join');

const N = Number(process.env.BENCH_JOIN_N ?? 30);
const HEADLESS = Number(process.env.BENCH_JOIN_HEADLESS ?? 100);
const RATE = 20;
const t0 = performance.now();
const [stack, browser] = await Promise.all([startStack({ media: true, nodeEnv: { SFU_CONNECTS_PER_MINUTE: '0' } }), launchChromium()]);
const notMeasured: string[] = [];
const samples: number[] = [];
const navToFrame: number[] = [];
const load = { chromium: [] as number[], headless: [] as number[] };
let headless: Awaited<ReturnType<typeof headlessJoins>> | undefined;
try {
  const liveId = await liveWithChromiumHost(stack, browser);
  load.chromium.push(loadAverage());
  for (let i = 0; i < N; i++) {
    const j = await chromiumJoin(browser, stack.url, liveId, undefined, `198.51.100.${i + 1}`);
    samples.push(j.tokenToFrameMs);
    navToFrame.push(j.navigationToFrameMs);
    process.stderr.write(`[join-time] viewer ${i}: token→frame ${round(j.tokenToFrameMs)} ms, navigation→frame ${round(j.navigationToFrameMs)} ms\n`);
  }
  load.chromium.push(loadAverage());
  load.headless.push(loadAverage());
  headless = await headlessJoins(stack.url, liveId, HEADLESS, RATE);
  load.headless.push(loadAverage());
  process.stderr.write(`[join-time] ${HEADLESS} headless viewers at ${RATE}/s: join ${JSON.stringify(headless.joinMs)}, ${headless.viewers.joined} joined\n`);
  if (headless.viewers.failed > 0) notMeasured.push(`headless: ${headless.viewers.failed} of ${HEADLESS} viewers failed to join (${headless.failures.map((f) => `${f.count} at ${f.stage}: ${f.reason}`).join('; ')})`);
} catch (err) {
  notMeasured.push(`stopped early: ${(err as Error).message}`);
}
await browser.close();
await stack.stop();
await writeResult({
  name: 'join-time',
  title: 'Join time (Chromium)',
  method: `web/test/stack.ts: the control plane (fresh PostgreSQL database) in front of the built web app, with a media node (1 worker) in this process; Debian's headless Chromium. A host publishes H.264 simulcast (480p + 720p from the 720p fake camera) + Opus from /dev/publish with the token of POST /api/live/:id/start. (1) ${N} anonymous viewers, one after another, each in a fresh browser context with an address of its own (X-Forwarded-For: the per-address limits count the 100 load viewers below, all from 127.0.0.1; the node has no connection limit here), open /live/:id (web/test/media-join.ts). Join time = start of the page's media token request (Resource Timing) → first decoded frame presented (requestVideoFrameCallback), same page clock. Navigation → first frame (page load included) is given beside it. (2) Then ${HEADLESS} podlive-load viewers (werift: ICE, DTLS, SRTP; two tester processes) join the same live at ${RATE}/s through GET /api/live/:id/token; join time = token request → every consumer resumed; first packet = token request → first RTP packet. Load average (1 min, /proc/loadavg) before and after each part: other work on the two cores counts in every figure.`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: {
    tokenToFirstFrameMs: summarize(samples),
    navigationToFirstFrameMs: summarize(navToFrame),
    headless: headless ? { viewers: headless.viewers, rate: RATE, joinMs: headless.joinMs, firstPacketMs: headless.firstPacketMs } : null,
    loadAverage: load,
  },
});
process.exit(0);
