import { describe, expect, it } from 'vitest';
import { useStackAndBrowser } from './e2e-suite';
import { median, ringViewer } from './stage-ring';

const CALLS = 10;
/**
 * The product's promise is 200 ms from the host's Invite click to the call on the viewer's
 * screen (median of the calls), the figure this test prints and the stage-ring benchmark
 * measures; the bound is looser so a loaded 2-core CI machine stays green.
 */
const MEDIAN_BOUND_MS = 800;

describe('the incoming call, as fast as a phone rings', () => {
  const e2e = useStackAndBrowser({ media: true });

  it(`the viewer's screen shows the call soon after the host clicks Invite (median of ${CALLS} calls)`, { timeout: 180_000 }, async () => {
    const delays = await ringViewer(e2e.stack, e2e.browser, CALLS);
    console.info(`[stage ring] Invite click → call on screen: median ${median(delays)} ms, each ${delays.join(', ')} ms`);
    expect(delays).toHaveLength(CALLS);
    expect(delays.every((d) => Number.isFinite(d) && d >= 0)).toBe(true);
    expect(median(delays)).toBeLessThan(MEDIAN_BOUND_MS);
  });
});
