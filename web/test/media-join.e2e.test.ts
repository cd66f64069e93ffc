import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '@podlive/shared/testing/chromium';
import { percentiles } from '../../sfu/load/report';
import { startStack, type Stack } from './stack';
import { chromiumJoin, headlessJoins, liveWithChromiumHost, loadAverage } from './media-join';

/**
 * Join time, the promise of issue 19: token → first decoded frame p95 < 1 s in Chromium, and 100
 * headless viewers joining at 20/s with join p95 < 1 s (deploy/bench/join-time.ts measures both,
 * with 30 Chromium joins). Here with bounds for a loaded 2-core CI machine, where every step of a
 * join waits for CPU: Chromium p95 1.2 s at load average 12 (2-4 s joins at any load came from
 * video left with no simulcast layer, fixed in sfu/src/viewer-layers.ts); headless p95 0.2-0.4 s
 * at load 5-7, 2.2 and 4.4 s at load 11-12 (werift's DTLS alone p95 2.3 s there). One headless
 * round per minute: the control plane limits media tokens per address (HTTP 429 on a second).
 */
describe('join time (control plane + a media node, a Chromium host)', () => {
  let stack: Stack;
  let browser: Browser;
  let liveId: string;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([startStack({ media: true }), launchChromium()]);
    liveId = await liveWithChromiumHost(stack, browser);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('Chromium viewers, one after another in fresh contexts: token → first decoded frame', { timeout: 180_000 }, async () => {
    const load = loadAverage();
    const samples: number[] = [];
    for (let i = 0; i < 12; i++) samples.push((await chromiumJoin(browser, stack.url, liveId)).tokenToFrameMs);
    const s = percentiles(samples);
    console.info(`token → first frame over ${s.count} Chromium joins: p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms (load average ${load} → ${loadAverage()})`);
    expect(s.p50).toBeLessThan(1500);
    expect(s.p95).toBeLessThan(3000);
  });

  it('100 headless viewers joining at 20/s through the token route', { timeout: 120_000 }, async () => {
    const load = loadAverage();
    const report = await headlessJoins(stack.url, liveId, 100, 20);
    console.info(`100 headless viewers at 20/s: join p50 ${report.joinMs.p50} ms, p95 ${report.joinMs.p95} ms, first packet p95 ${report.firstPacketMs.p95} ms (load average ${load} → ${loadAverage()})`);
    expect(report.viewers).toMatchObject({ joined: 100, failed: 0 });
    // Every one got media (whether each still does at the very end depends on the testers' share of a busy machine).
    expect(report.firstPacketMs.count).toBe(100);
    expect(report.joinMs.p50).toBeLessThan(2000);
    expect(report.joinMs.p95).toBeLessThan(6000);
  });
});
