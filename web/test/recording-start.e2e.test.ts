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
    for (const b of bounds.renditions) {
      expect(b.firstFrameMs, `${b.name}: its first frame after the host's first published frame (ms)`).toBeLessThanOrEqual(1000);
      expect(b.endCutMs, `${b.name}: End Live after its last frame (ms)`).toBeLessThanOrEqual(1000);
      expect(Math.abs(b.durationErrorSec), `${b.name}: duration − (End Live − the host's first frame) (s)`).toBeLessThanOrEqual(1.5);
    }
  });
});
