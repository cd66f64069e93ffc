import { describe, expect, it } from 'vitest';
import { HLS_RECHECK, hlsRecheckDelay } from '../src/lib/media/backoff';
import { playsHost } from '../src/lib/media/handover';
import { LIVE_HLS_CONFIG } from '../src/lib/media/hls-playback';

describe('a viewer on HLS asks for WebRTC again', () => {
  it('after the server’s retryAfterSec, ±30 % (viewers sent to HLS together come back spread out)', () => {
    expect(hlsRecheckDelay(10, () => 0.5)).toBe(10_000);
    expect(hlsRecheckDelay(10, () => 0)).toBe(7000);
    expect(hlsRecheckDelay(10, () => 0.999_999)).toBe(13_000);
    const spread = Array.from({ length: 500 }, () => hlsRecheckDelay(20));
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(14_000);
    expect(Math.max(...spread)).toBeLessThanOrEqual(26_000);
    expect(new Set(spread).size).toBeGreaterThan(100);
  });

  it('never more often than every 2 s, whatever the server says', () => {
    expect(hlsRecheckDelay(1, () => 0)).toBe(HLS_RECHECK.minMs);
    expect(hlsRecheckDelay(0, () => 0.5)).toBeGreaterThanOrEqual(2000);
    expect(hlsRecheckDelay(-5, () => 0)).toBeGreaterThanOrEqual(2000);
  });

  it('a retryAfterSec that is no number falls back to about 15 s', () => {
    expect(hlsRecheckDelay(Number.NaN, () => 0.5)).toBe(15_000);
    expect(hlsRecheckDelay(Number.POSITIVE_INFINITY, () => 0.5)).toBe(15_000);
  });
});

describe('leaving HLS: the WebRTC session must play the host first', () => {
  const audio = { kind: 'audio' as const, paused: false, flowing: true };
  const video = { kind: 'video' as const, paused: false, flowing: true };

  it('plays once every host track has media (or is paused by the host)', () => {
    expect(playsHost([audio, video])).toBe(true);
    expect(playsHost([audio, { ...video, flowing: false, paused: true }])).toBe(true);
    expect(playsHost([audio])).toBe(true); // listen only, or an audio-only live
  });

  it('not while a track has no media yet, nor with no host track at all', () => {
    expect(playsHost([audio, { ...video, flowing: false }])).toBe(false);
    expect(playsHost([])).toBe(false);
  });
});

describe('hls.js settings for the live playlists (1 s segments, window of 6)', () => {
  it('sit 1.5 s behind the edge (in seconds, whatever the target duration) and jump back before the window slides away', () => {
    expect(LIVE_HLS_CONFIG.liveSyncDuration).toBe(1.5);
    expect(LIVE_HLS_CONFIG.liveSyncDurationCount).toBeUndefined();
    expect(LIVE_HLS_CONFIG.liveMaxLatencyDuration).toBeLessThan(6);
    expect(LIVE_HLS_CONFIG.liveMaxLatencyDuration).toBeGreaterThan(LIVE_HLS_CONFIG.liveSyncDuration ?? 0);
    expect(LIVE_HLS_CONFIG.enableWorker).toBe(false); // a blob: worker is outside the page's CSP
  });
});
