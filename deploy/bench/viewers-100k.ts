/**
 * The 100,000-viewer simulation: the real control plane (two replicas, each its own process, one
 * PostgreSQL database), the real Redis and the real placement (the reserve script with its capacity
 * check), against a fleet of simulated SFU nodes (lib/sim-fleet.ts: heartbeats, consumer counts and
 * the relay tree, no media) sized from the measured per-core figure. A host goes live through the
 * API; then VIEWERS anonymous viewers ask GET /api/live/:id/token at RATE/s, alternating between the
 * replicas, each from its own address (X-Forwarded-For, trusted from loopback), over keep-alive
 * connections. A 200 naming a node is a WebRTC slot there; a 200 with mode "hls" means no node has
 * room: that viewer plays the live's low-latency HLS.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { Redis } from 'ioredis';
import { createTestDb } from '@podlive/db/testing';
import { CONSUMERS_PER_WORKER } from '@podlive/shared/fleet';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { goLive, signUp } from './lib/client';
import { writeResult } from './lib/result';
import { startServerProcess, type ServerProcess } from './lib/server-process';
import { SimFleet } from './lib/sim-fleet';
import { round, summarize } from './lib/stats';

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 100_000);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
/** 12 machines of 16 cores: 640 consumers per worker core → 5,120 viewers each, 61,440 in all. */
const NODES = Number(process.env.BENCH_NODES ?? 12);
const WORKERS_PER_NODE = 16;
const FANOUT = 8;
/** What a live weighs on a pipe (3 simulcast layers at 150 + 500 + 1500 kbit/s and Opus at 64). */
const LIVE_KBPS = 150 + 500 + 1500 + 64;
/** The HLS tier: 1 s segments, 3 video renditions + audio, a playlist refreshed every second per rendition a player loads. */
const HLS_RENDITIONS = 4;
const MAX_IN_FLIGHT = 4000;

const t0 = performance.now();
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `podlive-bench-100k-${randomUUID().slice(0, 8)}:`;
const redis = new Redis(redisUrl);
const db = await createTestDb('postgres');
const dataDir = await mkdtemp(join(tmpdir(), 'podlive-bench-100k-'));
const keys = testKeyPair();
const fleet = new SimFleet(redis, prefix, { nodes: NODES, workersPerNode: WORKERS_PER_NODE, fanout: FANOUT });
await fleet.start();
// Recorded lives have a live HLS: past capacity the token route answers it (no recorder need run for the answer).
const fleetOptions = { redisUrl, prefix, databaseUrl: db.databaseUrl!, dataDir, privateKeyPem: keys.privatePem, recorderUrl: 'http://127.0.0.1:9' };
const replicas: ServerProcess[] = [await startServerProcess({ fleet: fleetOptions }), await startServerProcess({ fleet: fleetOptions })];
const host = await signUp(replicas[0]!.url, replicas[0]!.outbox);
const live = await goLive(replicas[0]!.url, host);

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
/** GET on the keep-alive pool: the status and the JSON body. */
const get = (url: string, headers: Record<string, string>) =>
  new Promise<{ status: number; body: { node?: string; mode?: string } }>((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as { node?: string; mode?: string } });
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
/** `hls`: answered 200 with the live's HLS (no node had room). */
interface Outcome { at: number; ms: number; status: number; node?: string; hls?: true }
const outcomes: Outcome[] = [];
let inFlight = 0;
let skipped = 0;
const ask = async (i: number) => {
  const base = replicas[i % replicas.length]!.url;
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const at = performance.now();
  inFlight++;
  try {
    const res = await get(`${base}/api/live/${live.id}/token`, { 'x-forwarded-for': address });
    outcomes.push({
      at: at - start, ms: performance.now() - at, status: res.status,
      ...(res.status === 200 && res.body.mode === 'hls' ? { hls: true as const } : {}),
      ...(res.status === 200 && res.body.node ? { node: res.body.node } : {}),
    });
  } catch {
    outcomes.push({ at: at - start, ms: performance.now() - at, status: 0 });
  } finally {
    inFlight--;
  }
};

// Paced by the clock: every 10 ms, whatever is due since the start (a late tick sends a burst).
const cpuBefore = await Promise.all(replicas.map((r) => r.cpuMs()));
const load = [loadavg()[0]!];
const start = performance.now();
let sent = 0;
const pending: Promise<void>[] = [];
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const due = Math.min(VIEWERS, Math.floor(((performance.now() - start) / 1000) * RATE));
    while (sent < due) {
      if (inFlight >= MAX_IN_FLIGHT) {
        skipped++;
        sent++;
        continue;
      }
      pending.push(ask(sent++));
    }
    if (sent >= VIEWERS) {
      clearInterval(timer);
      resolve();
    }
  }, 10);
});
await Promise.all(pending);
const rampSeconds = (performance.now() - start) / 1000;
load.push(loadavg()[0]!);
const cpuAfter = await Promise.all(replicas.map((r) => r.cpuMs()));
await fleet.stop();

const ok = outcomes.filter((o) => o.status === 200 && !o.hls);
const full = outcomes.filter((o) => o.hls);
const failed = outcomes.filter((o) => o.status !== 200);
const nodes = fleet.report(live.id);
const used = nodes.filter((n) => n.viewers > 0);
const originId = (await redis.hget(fleet.keys.session(live.id), 'origin')) ?? '';
const origin = nodes.find((n) => n.id === originId);
const perSecond = Array.from({ length: Math.ceil(rampSeconds) }, (_, s) => {
  const inSecond = outcomes.filter((o) => o.at >= s * 1000 && o.at < (s + 1) * 1000);
  const ms = inSecond.map((o) => o.ms);
  return { second: s, webrtc: inSecond.filter((o) => o.status === 200 && !o.hls).length, hls: inSecond.filter((o) => o.hls).length, p99Ms: ms.length ? summarize(ms).p99 : 0 };
});
const hlsViewers = full.length;
// Behind a cache (CDN edge or a reverse proxy), each cache asks the origin once per new segment and
// once per playlist refresh, per rendition, whatever its audience: per cache ≈ 2 × renditions requests/s.
const perCache = 2 * HLS_RENDITIONS;

const data = {
  viewers: VIEWERS,
  rate: RATE,
  rampSeconds: round(rampSeconds, 1),
  achievedPerSecond: round(outcomes.length / rampSeconds, 0),
  skippedOverInFlightCap: skipped,
  replicas: replicas.length,
  fleet: { nodes: NODES, workersPerNode: WORKERS_PER_NODE, consumersPerWorker: CONSUMERS_PER_WORKER, capacityViewersPerNode: (CONSUMERS_PER_WORKER * WORKERS_PER_NODE) / 2, fanout: FANOUT },
  tokenMs: summarize(outcomes.map((o) => o.ms)),
  tokenWebRtcMs: summarize(ok.map((o) => o.ms)),
  webrtc: ok.length,
  hls: hlsViewers,
  failed: failed.length,
  failedStatuses: [...new Set(failed.map((o) => o.status))],
  nodesUsed: used.length,
  maxConsumersOverCapacity: Math.max(...nodes.map((n) => n.peakConsumers / n.capacity)),
  nodesAboveCapacity: nodes.filter((n) => n.peakConsumers > n.capacity).map((n) => n.id),
  origin: { id: originId, feeds: origin?.feeds ?? 0, egressMbps: round(((origin?.feeds ?? 0) * LIVE_KBPS) / 1000, 1), withoutTreeMbps: round((used.filter((n) => n.id !== originId).length * LIVE_KBPS) / 1000, 1) },
  hlsOrigin: {
    perCacheRequestsPerSecond: perCache,
    withoutCacheRequestsPerSecond: hlsViewers * perCache,
    caches: [1, 10, 50].map((c) => ({ caches: c, requestsPerSecond: c * perCache })),
  },
  serverCpuMsPerToken: round(cpuAfter.reduce((a, b, i) => a + (b - cpuBefore[i]!), 0) / Math.max(1, outcomes.length), 2),
  loadAverage: load.map((l) => round(l, 2)),
  perSecond,
  perNode: nodes.map((n) => ({ id: n.id, viewers: n.viewers, usedPercent: round((n.peakConsumers / n.capacity) * 100, 1), feeds: n.feeds })),
};

await Promise.all(replicas.map((r) => r.stop()));
agent.destroy();
const stale: string[] = [];
for await (const batch of redis.scanStream({ match: `${prefix}*`, count: 1000 }) as AsyncIterable<string[]>) stale.push(...batch);
if (stale.length > 0) await redis.del(...stale);
redis.disconnect();
await db.close();

await writeResult({
  name: 'viewers-100k',
  title: 'The 100,000-viewer simulation',
  method: `Two control plane replicas (processes, one PostgreSQL database), Redis and the real placement (the reserve script and its capacity check) against ${NODES} simulated SFU nodes (deploy/bench/lib/sim-fleet.ts: heartbeats every second into the real registry; each takes in the viewers placed on it as connected and reports 2 consumers per viewer plus its pipes; nodes carrying the live attach to its tree with chooseParent, fan-out ${FANOUT}; no media) of ${WORKERS_PER_NODE} workers at ${CONSUMERS_PER_WORKER} consumers each (80 % of the measured per-core fan-out). ${VIEWERS} GET /api/live/:id/token requests paced at ${RATE}/s by the clock, alternating replicas, each from its own X-Forwarded-For address, over 64 keep-alive connections (node:http), at most ${MAX_IN_FLIGHT} in flight. 200 with a node: a WebRTC slot there; 200 with mode "hls" (no node has room; the live is recorded, so it has its low-latency HLS): the viewer plays the HLS. Origin egress: the nodes the origin feeds in the live's tree × ${LIVE_KBPS} kbit/s; without the tree every edge would be fed by the origin. HLS origin load behind caches: each cache fetches each rendition's segment and playlist once a second (${HLS_RENDITIONS} renditions), computed, not measured.`,
  notMeasured: ['the HLS tier behind caches: its request rate on the origin is computed from the segment and playlist cadence (no CDN here; the HLS path itself is loaded by podlive-load --hls)'],
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data,
});
process.exit(0);
