/**
 * Fan-out capacity per worker core: one media node with ONE mediasoup worker, a host publishing
 * into it, and podlive-load's headless viewers (werift) added in steps until the worker saturates
 * or the viewers lose more than 1 %. Then the same in listen mode (audio only).
 *
 * The tester shares this machine's two cores with the worker, and a worker free to use a whole
 * core outlasts it. So after one unconfined reference step the worker is confined to QUOTA of a
 * core by a cgroup CFS quota (lib/cpu-cgroup), where it saturates at a load the tester carries;
 * per-core figures are the saturated ones ÷ QUOTA. Cross-checks: the reference step scaled
 * linearly to a whole core, and, with the quota lifted again, one unconfined step at the tester's
 * ceiling scaled the same way. Without cgroups the bench falls back to the linear figures.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types } from 'mediasoup';
import type { MediaNode as MediaNodeType } from '@podlive/sfu';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { CpuCgroup, cpuPercent, type CpuCgroupStats } from './lib/cpu-cgroup';
import { capacity, crossCheck, linearExtrapolation, nextViewers, stopReason, windowLoss, type RampPlan, type Step } from './lib/fanout-capacity';
import { machineCpu, rssKiB } from './lib/proc';
import { writeResult } from './lib/result';
import { ratio, round, sleep } from './lib/stats';
import { ViewerLoad } from './lib/viewer-load';
import { testKeyPair } from '@podlive/shared/testing/keys';
import type { TokenSigningKey } from '@podlive/shared/tokens';

process.env.LOG_LEVEL ??= 'warn';
const { MediaNode } = await import('@podlive/sfu');
const { loadConfig } = await import('@podlive/sfu/config');
const { FilePublisher } = await import('../../sfu/load/file-publisher');

/** The host: what a studio sends, without a browser. */
const publisher = {
  describe: 'the FilePublisher of sfu/load: pre-encoded H.264 in three simulcast layers (180p/360p/720p at 150/500/1500 kbit/s, 30 fps, one producer) + Opus 64 kbit/s over a PlainTransport; each viewer gets the layer mediasoup picks for it',
  start: (o: { node: MediaNodeType; session: string; key: TokenSigningKey }) => FilePublisher.start(o),
};

/**
 * The worker's share of a core. The tester costs a little more CPU per viewer than the worker
 * (≈ 0.15–0.2 % of a core per video viewer, 0.1 % per listener, against the worker's 0.12–0.15 %
 * and 0.07 %): a quarter of a core saturates at about 150–170 video or 280–320 listen viewers,
 * which the tester carries in about a third of a core, leaving room on two cores for it, the
 * worker's quota and this process.
 */
const QUOTA = 0.25;
/** CFS period, as `docker --cpus` and Kubernetes CPU limits use. */
const PERIOD_US = 100_000;
const RATE = 50;
/** From the last join of a step to its window (the join work itself is over within 1–2 s). */
const SETTLE_MS = 4000;
const WINDOW_MS = 8000;
/** Reference (unconfined) viewers, the tester's ceiling, the smallest step. */
const PLAN: Record<Mode, RampPlan & { reference: number }> = {
  video: { reference: 100, maxViewers: 400, minIncrement: 20 },
  listen: { reference: 150, maxViewers: 700, minIncrement: 30 },
};
/** A window in which other processes used more than this (% of a core) is measured again, and called out if it stays so. */
const OTHER_CPU_NOTE = 20;
const MAX_WINDOWS = 3;
/** No new step (nor a repeated window, nor the ceiling step) starts after this many seconds into a mode. */
const MODE_BUDGET_S = 100;

type Mode = 'video' | 'listen';

interface ModeResult {
  reference: Step;
  linear: { consumersPerCore: number; packetsOutPerSecPerCore: number };
  steps: Step[];
  capacity: ReturnType<typeof capacity>;
  /** Measured (quota-saturated) ÷ linearly extrapolated consumers per core. */
  ratioToLinear: number | null;
  /**
   * Second cross-check, after the confined ramp: the quota lifted and viewers added up to the
   * tester's ceiling, the load where a whole core's worth of consumers is nearest; null without a quota
   * (the ramp itself went there).
   */
  ceiling: Step | null;
  ceilingLinear: { consumersPerCore: number; packetsOutPerSecPerCore: number } | null;
  ratioToCeilingLinear: number | null;
}

const keys = testKeyPair();
const t0 = performance.now();
let cgroupProblem: string | undefined;
let cgroupVersion: 1 | 2 | undefined;

async function startNode(): Promise<MediaNodeType> {
  return MediaNode.start(loadConfig({
    SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'bench', MEDIA_TOKEN_PUBLIC_KEY: keys.publicPem, SFU_CONNECTS_PER_MINUTE: '0', // every viewer from this one address
    RTC_PORT_BASE: String(await freeRtcPortBase(1)), DATA_DIR: await mkdtemp(join(tmpdir(), 'podlive-bench-')),
  }));
}

/** Consumers in the room and their cumulative packets sent, at the middle of the getStats round. */
async function consumerPackets(node: MediaNodeType, session: string): Promise<{ consumers: number; packets: number; at: number }> {
  const room = node.rooms.get(session);
  const consumers = room ? [...room.peers.values()].flatMap((p) => [...p.consumers.values()]) : [];
  const start = performance.now();
  const stats = await Promise.all(consumers.map((c) => c.getStats().catch(() => [])));
  const at = (start + performance.now()) / 2;
  return { consumers: consumers.length, packets: stats.flat().reduce((n, s) => n + (s.type === 'outbound-rtp' ? s.packetCount : 0), 0), at };
}

interface Ctx {
  node: MediaNodeType;
  worker: types.Worker;
  session: string;
  load: ViewerLoad;
  group: CpuCgroup | null;
  baseRssKiB: number;
  /** No new step, nor a repeated window, after this (performance.now()). */
  deadline: number;
}

/**
 * The current viewers, once settled: a window, measured again (up to MAX_WINDOWS in all) while other
 * work on the machine took more than OTHER_CPU_NOTE % of a core in it; the quietest window counts.
 */
async function measure(ctx: Ctx, quota: number | null): Promise<Step> {
  await sleep(SETTLE_MS);
  let best = await sampleWindow(ctx, quota);
  for (let i = 1; i < MAX_WINDOWS && best.otherCpuPercent > OTHER_CPU_NOTE && performance.now() < ctx.deadline; i++) {
    const again = await sampleWindow(ctx, quota);
    if (again.otherCpuPercent < best.otherCpuPercent) best = again;
  }
  process.stderr.write(`[fanout] ${ctx.session} ${best.viewers}${quota === null ? ' (unconfined)' : ` (quota ${quota})`}: ${JSON.stringify(best)}\n`);
  return best;
}

/** One window: the consumers' getStats rounds sit just outside the CPU window. */
async function sampleWindow(ctx: Ctx, quota: number | null): Promise<Step> {
  const cpuMs = async () => {
    const u = await ctx.worker.getResourceUsage();
    return u.ru_utime + u.ru_stime;
  };
  const k0 = await consumerPackets(ctx.node, ctx.session);
  const w0 = performance.now();
  const [c0, g0, tc0, m0] = await Promise.all([cpuMs(), ctx.group?.stats(), ctx.load.cpuMs(), machineCpu()]);
  const b0 = process.cpuUsage();
  const v0 = ctx.load.progress();
  await sleep(WINDOW_MS);
  const [c1, g1, tc1, m1] = await Promise.all([cpuMs(), ctx.group?.stats(), ctx.load.cpuMs(), machineCpu()]);
  const b = process.cpuUsage(b0);
  const v1 = ctx.load.progress();
  const wallMs = performance.now() - w0;
  const share = (ms: number) => round((ms / wallMs) * 100);
  const k1 = await consumerPackets(ctx.node, ctx.session);
  const rss = await rssKiB(ctx.worker.pid);
  const workerCpuPercent = share(c1 - c0);
  const s: Step = {
    viewers: ctx.load.viewers,
    joined: v1.joined,
    failed: v1.failed,
    consumers: k1.consumers,
    quota,
    workerCpuPercent,
    cpuOfQuotaPercent: quota === null ? null : round(workerCpuPercent / quota),
    packetsOutPerSec: Math.round((k1.packets - k0.packets) / ((k1.at - k0.at) / 1000)),
    workerRssMiB: round(rss / 1024),
    rssKiBPerConsumer: round((rss - ctx.baseRssKiB) / Math.max(k1.consumers, 1)),
    loss: round(windowLoss(v0, v1), 5),
    testerCpuPercent: share(tc1 - tc0),
    otherCpuPercent: Math.max(0, share(m1.busyMs - m0.busyMs - (c1 - c0) - (tc1 - tc0) - (b.user + b.system) / 1000)),
    stealPercent: share(m1.stealMs - m0.stealMs),
    throttle: g0 && g1 ? throttle(g0, g1, wallMs) : null,
  };
  if (s.otherCpuPercent > OTHER_CPU_NOTE) process.stderr.write(`[fanout] ${ctx.session} ${s.viewers}: other work took ${s.otherCpuPercent} % of a core in the window\n`);
  return s;
}

function throttle(a: CpuCgroupStats, b: CpuCgroupStats, wallMs: number): Step['throttle'] {
  const periods = b.nrPeriods - a.nrPeriods;
  const throttled = b.nrThrottled - a.nrThrottled;
  return {
    periods,
    throttled,
    throttledPercent: periods ? round((throttled / periods) * 100) : 0,
    throttledMsPerSec: round((b.throttledUs - a.throttledUs) / wallMs),
    cgroupCpuPercent: round(cpuPercent(a, b, wallMs)),
  };
}

async function confine(pid: number): Promise<CpuCgroup | null> {
  if (cgroupProblem) return null;
  let group: CpuCgroup | undefined;
  try {
    group = await CpuCgroup.create({ quota: QUOTA, periodUs: PERIOD_US });
    await group.add(pid);
    cgroupVersion = group.version;
    return group;
  } catch (err) {
    await group?.close().catch(() => undefined);
    cgroupProblem = (err as Error).message;
    process.stderr.write(`[fanout] no CPU quota for the worker, falling back to the linear extrapolation: ${cgroupProblem}\n`);
    return null;
  }
}

async function ramp(mode: Mode): Promise<ModeResult> {
  const plan = PLAN[mode];
  const deadline = performance.now() + MODE_BUDGET_S * 1000;
  const session = `fanout-${mode}`;
  const node = await startNode();
  const worker = node.pool.workers[0]?.worker;
  if (!worker) throw new Error('no worker');
  const load = new ViewerLoad({ ws: node.url, key: keys.privatePem, node: 'bench', session, listen: mode === 'listen', rate: RATE });
  const host = await publisher.start({ node, session, key: keys.privateKey });
  await sleep(500);
  const ctx: Ctx = { node, worker, session, load, group: null, baseRssKiB: await rssKiB(worker.pid), deadline };
  try {
    await load.add(plan.reference);
    const reference = await measure(ctx, null);
    ctx.group = await confine(worker.pid);
    const quota = ctx.group ? QUOTA : null;
    const steps: Step[] = [];
    let s = quota === null ? reference : await measure(ctx, quota);
    for (;;) {
      steps.push(s);
      const testerErrors = load.errors();
      s.stopReason = stopReason(s) ?? (testerErrors.length ? `tester failed: ${testerErrors.join('; ')}` : undefined);
      if (s.stopReason) break;
      const next = nextViewers(s, plan);
      if (next === undefined) s.stopReason = `last step: the tester's ceiling of ${plan.maxViewers} viewers on this machine`;
      else if (performance.now() > deadline) s.stopReason = `last step: the bench's time budget (${MODE_BUDGET_S} s per mode)`;
      if (s.stopReason || next === undefined) break;
      await load.add(next - load.viewers);
      s = await measure(ctx, quota);
    }
    let ceiling: Step | null = null;
    if (ctx.group && load.errors().length === 0 && performance.now() < deadline) {
      await ctx.group.close();
      ctx.group = null;
      await load.add(plan.maxViewers - load.viewers);
      ceiling = await measure(ctx, null);
    }
    const cap = capacity(steps);
    return {
      reference, linear: linearExtrapolation(reference), steps, capacity: cap, ratioToLinear: crossCheck(cap, reference),
      ceiling, ceilingLinear: ceiling && linearExtrapolation(ceiling), ratioToCeilingLinear: crossCheck(cap, ceiling),
    };
  } finally {
    await ctx.group?.close();
    host.close();
    node.rooms.get(session)?.close();
    await load.close();
    await node.close();
  }
}

const video = await ramp('video');
const listen = await ramp('listen');
const cv = video.capacity;
const cl = listen.capacity;
const stepsText = (r: ModeResult) => r.steps.map((s) => s.viewers).join(', ');
/** Steps during which other work used a noticeable share of the two cores. */
const contention = ([['video', video], ['listen', listen]] as const).flatMap(([mode, r]) => [...(cgroupProblem ? [] : [r.reference]), ...r.steps, ...(r.ceiling ? [r.ceiling] : [])]
  .filter((s) => s.otherCpuPercent > OTHER_CPU_NOTE)
  .map((s) => `${mode} ${s.viewers}${s.quota === null ? ' (unconfined)' : ''}: other work on the machine used ${s.otherCpuPercent} % of a core during the window${s.stealPercent ? ` (steal ${s.stealPercent} %)` : ''}; the worker's CPU per consumer there may be higher than on a quiet machine`));
await writeResult({
  name: 'fanout',
  title: 'Fan-out capacity per worker core',
  method: `One MediaNode in this process with SFU_WORKERS=1 (one mediasoup 3.12.16 worker), a fresh one per mode. Host: ${publisher.describe}. Viewers: podlive-load (werift: ICE, DTLS, SRTP) on the same machine, one more tester process per step for the added viewers (joining at ${RATE}/s; earlier viewers stay). First an unconfined reference step (${PLAN.video.reference} video / ${PLAN.listen.reference} listen viewers); then the worker process is confined by a cgroup CFS quota to ${QUOTA * 100} % of one core (period ${PERIOD_US / 1000} ms, as docker --cpus), so that it saturates at a load the tester carries, and viewers are added in steps aimed at the saturation predicted from the last step (first 70 % of it, then strides of 10 %), until the worker uses ≥ 90 % of its quota, window loss > 1 %, a join fails, or the tester's ceiling (${PLAN.video.maxViewers} video / ${PLAN.listen.maxViewers} listen viewers). Each step: all joined + ${SETTLE_MS / 1000} s, then a ${WINDOW_MS / 1000} s window (repeated, up to ${MAX_WINDOWS} in all, while other work on the machine took > ${OTHER_CPU_NOTE} % of a core in it; the quietest counts): worker CPU = worker.getResourceUsage() (utime+stime) delta / wall time, cross-checked by the cgroup's own usage counter; throttled periods and time from the cgroup's cpu.stat; packets/s out = sum of consumer getStats() outbound-rtp packetCount deltas (taken just outside the CPU window); loss = the viewers' sequence gaps over the window; tester CPU from /proc/<pid>/stat; other CPU = the machine's busy time (/proc/stat) less worker, tester and this process (other work sharing the cores); worker RSS (VmRSS) growth since before the first viewer (the host already publishing), per consumer. Per core = the last clean step's consumers and packets/s ÷ the quota ("saturated" when that step used ≥ 90 % of it). Cross-checks: the reference step scaled linearly to 100 % of a core (ratio = saturated ÷ linear), and, after the ramp, the quota lifted and viewers added up to the tester's ceiling for one more unconfined window, scaled the same way (does the cost per consumer change with the load?). Steps run: ${stepsText(video)} (video), ${stepsText(listen)} (listen).`,
  notMeasured: cgroupProblem
    ? [`worker saturation under a CPU quota: no cgroup CPU controller usable here (${cgroupProblem}); the per-core figures are the unconfined steps scaled linearly to 100 % of a core (the tester on the same cores runs out before the worker)`]
    : ([['video', video], ['listen', listen]] as const).filter(([, r]) => !r.ceiling).map(([mode]) => `${mode}: the unconfined step at the tester's ceiling (the mode's time budget ran out, or a tester process failed)`),
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: {
    quota: cgroupProblem ? null : { share: QUOTA, periodUs: PERIOD_US, cgroupVersion },
    contention,
    video,
    listen,
    listenVsVideoConsumersPerCore: cv && cl ? ratio(cl.consumersPerCore, cv.consumersPerCore) : null,
  },
});
process.exit(0);
