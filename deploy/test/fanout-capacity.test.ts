import { describe, expect, it } from 'vitest';
import { capacity, crossCheck, linearExtrapolation, nextViewers, stopReason, windowLoss, type Step } from '../bench/lib/fanout-capacity';

/** A clean confined video step: 2 consumers per viewer, 64 packets/s per consumer. */
function step(viewers: number, workerCpuPercent: number, over: Partial<Step> = {}): Step {
  const quota = over.quota === undefined ? 0.25 : over.quota;
  return {
    viewers, joined: viewers, failed: 0, consumers: 2 * viewers, quota, workerCpuPercent,
    cpuOfQuotaPercent: quota === null ? null : workerCpuPercent / quota, packetsOutPerSec: 128 * viewers,
    workerRssMiB: 30, rssKiBPerConsumer: 70, loss: 0, testerCpuPercent: 0.17 * viewers, otherCpuPercent: 0, stealPercent: 0, throttle: null, ...over,
  };
}

describe('stopReason', () => {
  it('goes on below 90 % of the quota with everyone joined and no loss', () => {
    expect(stopReason(step(100, 22.4))).toBeUndefined();
  });

  it('stops at 90 % of the QUOTA, not of a core', () => {
    expect(stopReason(step(170, 22.5))).toMatch(/≥ 90 % of its quota \(25 % of a core\)/);
    expect(stopReason(step(170, 89.9, { quota: null }))).toBeUndefined();
    expect(stopReason(step(600, 90, { quota: null }))).toMatch(/≥ 90 % of a core/);
  });

  it('stops on loss over 1 % and on failed joins, naming every reason', () => {
    expect(stopReason(step(100, 10, { loss: 0.01 }))).toBeUndefined();
    expect(stopReason(step(100, 10, { loss: 0.0125 }))).toMatch(/loss 1\.25 % > 1 %/);
    expect(stopReason(step(100, 10, { joined: 98, failed: 2 }))).toMatch(/only 98\/100 viewers joined/);
    expect(stopReason(step(100, 24, { loss: 0.05, failed: 1, joined: 99 }))?.split('; ')).toHaveLength(3);
  });
});

describe('nextViewers', () => {
  const plan = { maxViewers: 400, minIncrement: 20 };

  it('jumps to 70 % of the linearly predicted saturation, then climbs in strides of 10 % of it', () => {
    // 100 viewers at half the quota: saturation predicted at 200.
    expect(nextViewers(step(100, 12.5), plan)).toBe(140);
    // Close to it: one stride (10 % of the prediction, at least minIncrement).
    expect(nextViewers(step(150, 21), plan)).toBe(170);
    expect(nextViewers(step(300, 22), { maxViewers: 1000, minIncrement: 20 })).toBe(330);
  });

  it('predicts against a whole core when the worker is not confined', () => {
    expect(nextViewers(step(100, 15, { quota: null }), plan)).toBe(400);
    expect(nextViewers(step(100, 15, { quota: null }), { maxViewers: 1000, minIncrement: 20 })).toBe(470);
  });

  it('stops at the tester ceiling and never exceeds it', () => {
    expect(nextViewers(step(390, 10), plan)).toBe(400);
    expect(nextViewers(step(400, 10), plan)).toBeUndefined();
  });
});

describe('windowLoss', () => {
  it('is the share of packets lost between two cumulative counts', () => {
    expect(windowLoss({ packets: 1000, lost: 10 }, { packets: 1990, lost: 20 })).toBeCloseTo(10 / 1000);
    expect(windowLoss({ packets: 5, lost: 0 }, { packets: 5, lost: 0 })).toBe(0);
  });
});

describe('capacity', () => {
  it('takes the saturating clean step and divides by the quota', () => {
    const c = capacity([step(100, 12), step(150, 19), step(170, 24.1)]);
    expect(c).toMatchObject({ atStep: 170, consumersMeasured: 340, consumersPerCore: 1360, packetsOutPerSecPerCore: 128 * 170 * 4, rssKiBPerConsumer: 70, basis: 'saturated', extrapolated: false });
  });

  it('falls back to the last clean step when the saturating one lost packets, as a lower bound', () => {
    const c = capacity([step(100, 12), step(150, 20), step(180, 25, { loss: 0.03 })]);
    expect(c).toMatchObject({ atStep: 150, consumersPerCore: 1200, basis: 'below saturation', extrapolated: true });
  });

  it('does not count a step with failed joins as clean', () => {
    expect(capacity([step(100, 12), step(150, 23, { joined: 149, failed: 1 })])?.atStep).toBe(100);
    expect(capacity([step(100, 12, { failed: 1, joined: 99 })])).toBeNull();
  });

  it('extrapolates unconfined steps linearly to a whole core', () => {
    const c = capacity([step(100, 12.5, { quota: null }), step(400, 50, { quota: null })]);
    expect(c).toMatchObject({ atStep: 400, consumersPerCore: 1600, packetsOutPerSecPerCore: 102_400, basis: 'extrapolated', extrapolated: true });
  });
});

describe('crossCheck', () => {
  it('is measured ÷ the reference scaled linearly to a core', () => {
    const reference = step(100, 12.5, { quota: null });
    expect(linearExtrapolation(reference)).toEqual({ consumersPerCore: 1600, packetsOutPerSecPerCore: 102_400 });
    expect(crossCheck(capacity([step(100, 12), step(170, 24.1)]), reference)).toBe(0.85);
  });

  it('has nothing to compare when the capacity is itself the linear extrapolation', () => {
    const reference = step(100, 12.5, { quota: null });
    expect(crossCheck(capacity([reference]), reference)).toBeNull();
    expect(crossCheck(null, reference)).toBeNull();
  });
});
