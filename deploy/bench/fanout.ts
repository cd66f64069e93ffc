/**
 * Fan-out capacity per worker core: one media node with ONE mediasoup worker (so "per core" is
 * that worker), a synthetic host (sfu/load/synthetic-publisher: Opus + one H.264 stream over a
 * PlainTransport), and podlive-load's headless viewers in a child process, added in steps until the
 * worker's CPU reaches 90 % of a core, the viewers' loss exceeds 1 %, or the last step. Then the
 * same in listen mode (audio only).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { types } from 'mediasoup';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import type { LoadReport } from '../../sfu/load/report';
import { writeResult } from './lib/result';
import { ratio, round, sleep } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { MediaNode } = await import('@podlive/sfu');
const { loadConfig } = await import('@podlive/sfu/config');
const { SyntheticPublisher } = await import('../../sfu/load/synthetic-publisher');

const CLI = fileURLToPath(new URL('../../sfu/load/cli.ts', import.meta.url));
const RATE = 50;
const WINDOW_MS = 5000;
const STEPS = { video: [100, 250, 400], listen: [150, 400, 700] };

export interface Step {
  viewers: number;
  joined: number;
  consumers: number;
  workerCpuPercent: number;
  packetsOutPerSec: number;
  workerRssMiB: number;
  rssKiBPerConsumer: number;
  loss: number;
  testerCpuPercent: number;
  stopReason?: string;
}

const secret = randomBytes(24).toString('hex');
const t0 = performance.now();
const node = await MediaNode.start(loadConfig({
  SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'bench', MEDIA_TOKEN_SECRET: secret,
  RTC_PORT_BASE: String(await freeRtcPortBase(1)), DATA_DIR: await mkdtemp(join(tmpdir(), 'podlive-bench-')),
}));
const poolWorker = node.pool.workers[0];
if (!poolWorker) throw new Error('no worker');
const worker: types.Worker = poolWorker.worker;

const rssKiB = async (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const cpuMs = async () => {
  const u = await worker.getResourceUsage();
  return u.ru_utime + u.ru_stime;
};

/** Consumers in the room and their cumulative packets sent. */
async function consumerPackets(session: string): Promise<{ consumers: number; packets: number }> {
  const room = node.rooms.get(session);
  const consumers = room ? [...room.peers.values()].flatMap((p) => [...p.consumers.values()]) : [];
  const stats = await Promise.all(consumers.map((c) => c.getStats().catch(() => [])));
  const packets = stats.flat().reduce((n, s) => n + (s.type === 'outbound-rtp' ? s.packetCount : 0), 0);
  return { consumers: consumers.length, packets };
}

async function step(mode: 'video' | 'listen', viewers: number, baseRssKiB: number): Promise<Step> {
  const session = `fanout-${mode}-${viewers}`;
  const publisher = await SyntheticPublisher.start({ node, session, secret, videoKbps: 500 });
  const json = join(await mkdtemp(join(tmpdir(), 'podlive-fanout-')), 'report.json');
  const duration = 25; // after the last join started: covers the joins, 2 s settling and the window
  const args = ['--import', 'tsx', CLI, '--ws', node.url, '--secret', secret, '--node', 'bench', '--session', session,
    '--viewers', String(viewers), '--rate', String(RATE), '--duration', String(duration), '--json', json, ...(mode === 'listen' ? ['--listen'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let joinedOrFailed = 0;
  child.stderr.on('data', (chunk: Buffer) => {
    for (const m of chunk.toString().matchAll(/joined (\d+)\/\d+\s+failed (\d+)/g)) joinedOrFailed = Number(m[1]) + Number(m[2]);
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + (viewers / RATE + 30) * 1000;
  while (joinedOrFailed < viewers && Date.now() < deadline) await sleep(250);
  await sleep(2000); // consumers resumed, key frames through
  const c0 = await cpuMs();
  const p0 = await consumerPackets(session);
  const w0 = performance.now();
  await sleep(WINDOW_MS);
  const c1 = await cpuMs();
  const p1 = await consumerPackets(session);
  const seconds = (performance.now() - w0) / 1000;
  const rss = await rssKiB(worker.pid);
  await exited;
  const report = JSON.parse(await readFile(json, 'utf8')) as LoadReport;
  publisher.close();
  node.rooms.get(session)?.close();
  await sleep(500);
  const s: Step = {
    viewers,
    joined: report.viewers.joined,
    consumers: p1.consumers,
    workerCpuPercent: round(((c1 - c0) / (seconds * 1000)) * 100),
    packetsOutPerSec: Math.round((p1.packets - p0.packets) / seconds),
    workerRssMiB: round(rss / 1024),
    rssKiBPerConsumer: round((rss - baseRssKiB) / Math.max(p1.consumers, 1)),
    loss: report.loss.fraction,
    testerCpuPercent: round(report.cost.cpuPercentPerViewer * report.viewers.joined),
  };
  process.stderr.write(`[fanout] ${mode} ${viewers}: ${JSON.stringify(s)}\n`);
  return s;
}

async function ramp(mode: 'video' | 'listen'): Promise<Step[]> {
  const steps: Step[] = [];
  const base = await rssKiB(worker.pid);
  for (const n of STEPS[mode]) {
    const s = await step(mode, n, base);
    steps.push(s);
    if (s.workerCpuPercent >= 90) s.stopReason = 'worker CPU ≥ 90 % of a core';
    else if (s.loss > 0.01) s.stopReason = 'loss > 1 %';
    else if (s.joined < n) s.stopReason = `only ${s.joined}/${n} viewers joined (tester limit)`;
    if (s.stopReason) break;
  }
  const last = steps.at(-1);
  if (last && !last.stopReason) last.stopReason = 'last step reached (the tester on the same machine is the limit)';
  return steps;
}

/** Per-core capacity: the last clean step, extrapolated linearly to 100 % of the worker's core. */
function capacity(steps: Step[]) {
  const clean = steps.filter((s) => s.loss <= 0.01 && s.joined === s.viewers);
  const best = clean.at(-1) ?? steps[0];
  if (!best) return null;
  const perCpu = 100 / Math.max(best.workerCpuPercent, 0.1);
  return {
    atStep: best.viewers,
    consumersMeasured: best.consumers,
    workerCpuPercent: best.workerCpuPercent,
    consumersPerCore: Math.round(best.consumers * perCpu),
    packetsOutPerSecPerCore: Math.round(best.packetsOutPerSec * perCpu),
    rssKiBPerConsumer: best.rssKiBPerConsumer,
    extrapolated: best.workerCpuPercent < 90,
  };
}

const video = await ramp('video');
const listen = await ramp('listen');
await node.close();
const cv = capacity(video);
const cl = capacity(listen);
await writeResult({
  name: 'fanout',
  title: 'Fan-out capacity per worker core',
  method: `One MediaNode in this process with SFU_WORKERS=1 (one mediasoup 3.12.16 worker = one core). Host: the synthetic publisher of sfu/load (Opus 50 pkt/s + ONE H.264 stream at 500 kbit/s over a PlainTransport; not three simulcast layers, so a viewer gets the same packets it would get from one simulcast layer). Viewers: podlive-load (werift: ICE, DTLS, SRTP) in one child process on the same machine, joining at ${RATE}/s, in steps ${STEPS.video.join(', ')} (video) and ${STEPS.listen.join(', ')} (listen, audio only). At each step, once all joined + 2 s, a ${WINDOW_MS / 1000} s window: worker CPU = worker.getResourceUsage() (utime+stime) delta / wall time; packets/s out = sum of consumer getStats() outbound-rtp packetCount deltas; worker RSS from /proc/<pid>/status VmRSS, minus the RSS before the ramp, per consumer; loss = the tester's sequence-gap loss over the whole step. Stop at CPU ≥ 90 %, loss > 1 %, a failed join, or the last step. Consumers/packets per core are the last clean step scaled linearly to 100 % of the core (marked extrapolated when the worker did not reach 90 %).`,
  notMeasured: [],
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: {
    video: { steps: video, capacity: cv },
    listen: { steps: listen, capacity: cl },
    listenVsVideoConsumersPerCore: cv && cl ? ratio(cl.consumersPerCore, cv.consumersPerCore) : null,
  },
});
process.exit(0);
