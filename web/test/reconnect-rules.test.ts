import { describe, expect, it } from 'vitest';
import { HOST_RETRY, retryDelay, VIEWER_RETRY, withRetries } from '../src/lib/media/backoff';
import { carries, kindsToCarry, waitUntil, type TrackState } from '../src/lib/media/handover';
import { FrameClock } from '../src/lib/media/frames';

describe('retry schedule after losing a media node', () => {
  it('retries a viewer fast first, anywhere in 100–500 ms (so a dead node’s viewers spread out)', () => {
    expect(retryDelay(0, VIEWER_RETRY, () => 0)).toBe(100);
    expect(retryDelay(0, VIEWER_RETRY, () => 0.999)).toBe(500);
    const spread = new Set(Array.from({ length: 200 }, () => retryDelay(0, VIEWER_RETRY)));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...spread)).toBeLessThanOrEqual(500);
    expect(spread.size).toBeGreaterThan(50);
  });

  it('then backs off, doubling to at most 10 s, ±25 %', () => {
    const mid = () => 0.5; // no jitter
    expect([1, 2, 3, 4, 5, 9].map((n) => retryDelay(n, VIEWER_RETRY, mid))).toEqual([1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(retryDelay(2, VIEWER_RETRY, () => 0)).toBe(1500);
    expect(retryDelay(2, VIEWER_RETRY, () => 1)).toBe(2500);
  });

  it('the host keeps trying every 1–5 s (its new origin appears once the old misses its heartbeats)', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => retryDelay(n, HOST_RETRY, mid))).toEqual([200, 1000, 1500, 2250, 3375, 5000, 5000]);
  });

  it('withRetries: retries until it works, with the schedule’s delays', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await withRetries(
      async () => {
        if (++calls < 3) throw new Error(`no ${calls}`);
        return 'ok';
      },
      { tries: 5, schedule: HOST_RETRY, random: () => 0.5, sleep: async (ms) => void slept.push(ms) },
    );
    expect(result).toBe('ok');
    expect(slept).toEqual([200, 1000]);
  });

  it('withRetries: gives up after `tries` with the last error, at once on a fatal one, and stops when cancelled', async () => {
    const sleep = async () => undefined;
    let n = 0;
    await expect(withRetries(async () => Promise.reject(new Error(`fail ${++n}`)), { tries: 3, schedule: HOST_RETRY, sleep })).rejects.toThrow('fail 3');
    n = 0;
    await expect(withRetries(async () => Promise.reject(new Error(`fail ${++n}`)), { tries: 3, schedule: HOST_RETRY, sleep, fatal: () => true })).rejects.toThrow('fail 1');
    let cancelled = false;
    const result = await withRetries(
      async () => {
        cancelled = true;
        throw new Error('down');
      },
      { tries: 9, schedule: HOST_RETRY, sleep, cancelled: () => cancelled },
    );
    expect(result).toBe(null);
  });
});

describe('make-before-break: when the new node’s session may replace the old one', () => {
  const t = (kind: 'audio' | 'video', flowing: boolean, paused = false): TrackState => ({ kind, flowing, paused });

  it('carries over every kind the old session plays, except what the host paused', () => {
    expect(kindsToCarry([t('audio', true), t('video', true)])).toEqual(new Set(['audio', 'video']));
    expect(kindsToCarry([t('audio', true), t('video', false, true)])).toEqual(new Set(['audio']));
    expect(kindsToCarry([])).toEqual(new Set()); // nothing to wait for (host away, listen only without audio...)
  });

  it('the new session is ready once each of those kinds has media (or is paused there too)', () => {
    const both = kindsToCarry([t('audio', true), t('video', true)]);
    expect(carries([], both)).toBe(false);
    expect(carries([t('audio', true)], both)).toBe(false);
    expect(carries([t('audio', true), t('video', false)], both)).toBe(false);
    expect(carries([t('audio', true), t('video', true)], both)).toBe(true);
    expect(carries([t('audio', true), t('video', false, true)], both)).toBe(true);
    expect(carries([], new Set())).toBe(true);
  });

  it('waitUntil polls until true, or answers false at the deadline, or throws what the check throws', async () => {
    let n = 0;
    expect(await waitUntil(() => ++n >= 3, { timeoutMs: 1000, intervalMs: 5 })).toBe(true);
    expect(n).toBe(3);
    const started = Date.now();
    expect(await waitUntil(async () => false, { timeoutMs: 60, intervalMs: 10 })).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    await expect(
      waitUntil(
        () => {
          throw new Error('lost');
        },
        { timeoutMs: 100, intervalMs: 5 },
      ),
    ).rejects.toThrow('lost');
  });
});

describe('FrameClock (what the e2e tests read as window.podliveFrames)', () => {
  it('counts frames and keeps the longest gap; a reset keeps the gap that is under way', () => {
    const clock = new FrameClock();
    for (const at of [0, 33, 66, 100]) clock.record(at);
    expect(clock.count).toBe(4);
    expect(clock.maxGapMs).toBe(34);
    clock.reset(); // e.g. just before a node is killed
    expect(clock.count).toBe(0);
    for (const at of [1400, 1433]) clock.record(at);
    expect(clock.maxGapMs).toBe(1300);
    expect(clock.count).toBe(2);
    expect(clock.lastAt).toBe(1433);
  });
});
