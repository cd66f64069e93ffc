import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack';
import { openBrowser, type BrowserHarness } from './browser';
import { recordFromStudio } from './recording-clock';

const LIVE_SECONDS = 12;

/**
 * The first and last seconds of a recording: a live started from /studio (its camera paints the
 * host's clock into every frame) and ended after a few seconds gives a recording whose first frame
 * comes right after the host's first published frame and whose length is the time from that frame
 * to End Live. The bounds leave room for a loaded two-core CI machine (FFmpeg starts there in up
 * to 1.5 s); `npm run bench` (deploy/bench/recording.ts) reports the figures of a 40 s live.
 */
describe('a live recorded from its first frame to End Live', () => {
  let stack: Stack;
  let browser: BrowserHarness;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack({ media: true, recorder: {} }), openBrowser(() => stack.url)]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('its first frame follows the host’s first published frame, and it lasts until End Live', { timeout: 120_000 }, async () => {
    const { bounds } = await recordFromStudio(stack, browser, { handle: 'rec_start', liveSeconds: LIVE_SECONDS });
    console.info(`[recording start] host's first frame → End Live ${bounds.expectedSec.toFixed(3)} s; ${bounds.renditions.map((b) => JSON.stringify(b)).join('; ')}; layers at the node ${JSON.stringify(bounds.layers)}`);
    expect(bounds.renditions.length).toBeGreaterThanOrEqual(1);
    // Bounds for a loaded 2-core CI machine; the figure is the recording benchmark's. On
    // 2026-12-03 this test alone on a quiet machine gave first frames from 514 to 1998 ms after
    // the host's (eleven runs, with the live HLS output on or off alike: 514–1998 ms in six runs
    // on, 525–1742 ms in five off; the 720p layer often latest), where 284 ms had been seen
    // before; a CI run failed at 1301 ms against the former 1000 ms bound.
    for (const b of bounds.renditions) {
      expect(b.firstFrameMs, `${b.name}: its first frame after the host's first published frame (ms)`).toBeLessThanOrEqual(2500);
      expect(b.endCutMs, `${b.name}: End Live after its last frame (ms)`).toBeLessThanOrEqual(1000);
      expect(Math.abs(b.durationErrorSec), `${b.name}: duration − (End Live − the host's first frame) (s)`).toBeLessThanOrEqual(3);
    }
  });
});
