import { describe, expect, it } from 'vitest';
import { trendScore, ViewerTrend } from '../../src/features/social/trend';

describe('ViewerTrend', () => {
  it('measures growth against the oldest sample in the window, samples at most every sampleEveryMs, forgets ended lives', () => {
    const trend = new ViewerTrend({ windowMs: 60_000, sampleEveryMs: 10_000 });
    expect(trend.observe(new Map([['a', 5]]), 0)).toEqual(new Map([['a', 0]]));
    expect(trend.observe(new Map([['a', 9]]), 5_000)).toEqual(new Map([['a', 4]]));
    expect(trend.observe(new Map([['a', 12]]), 30_000)).toEqual(new Map([['a', 7]]));
    // The 0 s sample has left the window; the 30 s one (12) is the oldest now.
    expect(trend.observe(new Map([['a', 10]]), 70_000)).toEqual(new Map([['a', -2]]));
    trend.observe(new Map(), 71_000);
    expect(trend.observe(new Map([['a', 3]]), 72_000)).toEqual(new Map([['a', 0]]));
    expect(trendScore(2, 2)).toBeGreaterThan(trendScore(3, 0));
  });
});
