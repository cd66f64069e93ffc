/**
 * The fan-out bench's arithmetic, without I/O: when a step stops the ramp, how many viewers the
 * next step has, and what one worker core carries (measured at the quota's saturation, or scaled
 * linearly from an unconfined step as a cross-check).
 */
import { round } from './stats';

/** CFS throttling of the worker's cgroup over one step's window. */
export interface Throttle {
  /** Periods in the window in which the worker had work. */
  periods: number;
  /** Of those, the periods in which it used up its quota and was stopped. */
  throttled: number;
  /** throttled / periods, percent. */
  throttledPercent: number;
  /** Time the worker was held back, ms per second of window. */
  throttledMsPerSec: number;
  /** The cgroup's own CPU accounting over the window, % of one core (cross-check of workerCpuPercent). */
  cgroupCpuPercent: number;
}

export interface Step {
  viewers: number;
  joined: number;
  failed: number;
  consumers: number;
  /** The worker's quota during this step, share of a core; null: not confined. */
  quota: number | null;
  /** Worker CPU over the window (getrusage utime + stime), % of one core. */
  workerCpuPercent: number;
  /** workerCpuPercent / (quota × 100), percent; null when not confined. */
  cpuOfQuotaPercent: number | null;
  packetsOutPerSec: number;
  workerRssMiB: number;
  /** Worker RSS growth since before the first viewer, per consumer. */
  rssKiBPerConsumer: number;
  /** Sequence-gap loss at the viewers over the window, fraction. */
  loss: number;
  /** The tester processes' CPU over the window, % of one core. */
  testerCpuPercent: number;
  /**
   * CPU of everything else on the machine over the window (all cores' busy time less the worker,
   * the tester and the bench process), % of one core: other work sharing the cores with the bench.
   */
  otherCpuPercent: number;
  /** CPU time the hypervisor took from this machine's virtual CPUs over the window, % of one core. */
  stealPercent: number;
  throttle: Throttle | null;
  stopReason?: string;
}

export const SATURATION = 0.9;
export const MAX_LOSS = 0.01;

/** Why the ramp stops after this step; undefined to go on. */
export function stopReason(s: Step): string | undefined {
  const reasons: string[] = [];
  if (s.failed > 0 || s.joined < s.viewers) reasons.push(`only ${s.joined}/${s.viewers} viewers joined`);
  if (s.loss > MAX_LOSS) reasons.push(`loss ${round(s.loss * 100, 2)} % > ${MAX_LOSS * 100} %`);
  const limit = (s.quota ?? 1) * 100;
  if (s.workerCpuPercent >= SATURATION * limit) {
    reasons.push(s.quota === null ? `worker CPU ≥ ${SATURATION * 100} % of a core` : `worker CPU ≥ ${SATURATION * 100} % of its quota (${round(limit)} % of a core)`);
  }
  return reasons.length ? reasons.join('; ') : undefined;
}

export interface RampPlan {
  /** Never more viewers than this (what the tester on this machine carries). */
  maxViewers: number;
  /** Smallest increase between two steps. */
  minIncrement: number;
}

/**
 * Viewers for the step after `last`: aims at the worker's saturation predicted linearly from the
 * last step (viewers at 100 % of its limit), jumping to 70 % of it while far below, then climbing in
 * strides of 10 % of it (at least `minIncrement`), rounded to 10. So the ramp has a step or two
 * short of saturation before the one that reaches it (the cost per viewer rises a little with the
 * load, so the linear prediction runs ahead). Undefined once `maxViewers` is reached.
 */
export function nextViewers(last: Pick<Step, 'viewers' | 'quota' | 'workerCpuPercent'>, plan: RampPlan): number | undefined {
  if (last.viewers >= plan.maxViewers) return undefined;
  const limit = (last.quota ?? 1) * 100;
  const predicted = (last.viewers * limit) / Math.max(last.workerCpuPercent, 0.1);
  const to10 = (n: number) => Math.round(n / 10) * 10;
  const stride = Math.max(plan.minIncrement, to10(predicted * 0.1));
  return Math.min(Math.max(last.viewers + stride, to10(predicted * 0.7)), plan.maxViewers);
}

/** Share of packets lost between two cumulative tester counts. */
export function windowLoss(a: { packets: number; lost: number }, b: { packets: number; lost: number }): number {
  const lost = b.lost - a.lost;
  const got = b.packets - a.packets;
  return lost + got > 0 ? Math.max(lost, 0) / (lost + got) : 0;
}

export type Basis =
  /** The worker used ≥ 90 % of its quota at a clean step: the figure is measured. */
  | 'saturated'
  /** Confined, but the last clean step did not reach 90 % of the quota: a lower bound. */
  | 'below saturation'
  /** Not confined, scaled linearly from the CPU share the worker used. */
  | 'extrapolated';

export interface Capacity {
  /** The step the figures come from: the last clean one (all joined, loss ≤ 1 %). */
  atStep: number;
  consumersMeasured: number;
  workerCpuPercent: number;
  quota: number | null;
  cpuOfQuotaPercent: number | null;
  consumersPerCore: number;
  packetsOutPerSecPerCore: number;
  rssKiBPerConsumer: number;
  basis: Basis;
  /** True unless basis is 'saturated'. */
  extrapolated: boolean;
}

const clean = (s: Step) => s.failed === 0 && s.joined === s.viewers && s.loss <= MAX_LOSS && s.consumers > 0;

/**
 * Per-core figures from confined steps: consumers at the last clean step ÷ the quota (the worker
 * used its whole quota there, or had headroom: then a lower bound). For unconfined steps, the
 * linear extrapolation of the last clean one to 100 % of a core.
 */
export function capacity(steps: readonly Step[]): Capacity | null {
  const best = steps.filter(clean).at(-1);
  if (!best) return null;
  const saturated = best.quota !== null && best.workerCpuPercent >= SATURATION * best.quota * 100;
  const scale = best.quota !== null ? 1 / best.quota : 100 / Math.max(best.workerCpuPercent, 0.1);
  const basis: Basis = best.quota === null ? 'extrapolated' : saturated ? 'saturated' : 'below saturation';
  return {
    atStep: best.viewers,
    consumersMeasured: best.consumers,
    workerCpuPercent: best.workerCpuPercent,
    quota: best.quota,
    cpuOfQuotaPercent: best.cpuOfQuotaPercent,
    consumersPerCore: Math.round(best.consumers * scale),
    packetsOutPerSecPerCore: Math.round(best.packetsOutPerSec * scale),
    rssKiBPerConsumer: best.rssKiBPerConsumer,
    basis,
    extrapolated: basis !== 'saturated',
  };
}

/** The unconfined reference step scaled linearly to 100 % of a core. */
export function linearExtrapolation(reference: Step): { consumersPerCore: number; packetsOutPerSecPerCore: number } {
  const scale = 100 / Math.max(reference.workerCpuPercent, 0.1);
  return { consumersPerCore: Math.round(reference.consumers * scale), packetsOutPerSecPerCore: Math.round(reference.packetsOutPerSec * scale) };
}

/** Measured ÷ linearly extrapolated consumers per core (1 = linear; below 1: the linear figure overstates). */
export function crossCheck(measured: Capacity | null, reference: Step | null): number | null {
  if (!measured || !reference || measured.basis === 'extrapolated' || reference.workerCpuPercent <= 0) return null;
  return round(measured.consumersPerCore / linearExtrapolation(reference).consumersPerCore, 2);
}
