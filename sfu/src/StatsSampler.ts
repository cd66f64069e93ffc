import type { types } from 'mediasoup';
import { moduleLogger } from './Logger';
import type { MetricsView, NodeMetrics } from './metrics';
import type { MediaKind } from './WorkerPool';
import { CpuShare, residentBytes } from './worker-usage';

const logger = moduleLogger('StatsSampler');

/** Requests in flight to the workers at once during a round (each getStats is one channel request). */
const CONCURRENCY = 8;
/** mediasoup's score below which a consumer counts as poor (10 is perfect). */
const LOW_SCORE = 7;

/** A consumer's cumulative stats as far as they were counted (the highest seen of each). */
interface Counted {
  packets: number;
  bytes: number;
  lost: number;
  nacks: number;
  plis: number;
  firs: number;
}

type Stat = Awaited<ReturnType<types.Consumer['getStats']>>[number];

/**
 * Reads mediasoup's stats in the background every `intervalMs` (SFU_METRICS_SAMPLE_MS), never at
 * scrape time: each worker's CPU share and resident memory; every client's consumer (those its
 * peers hold: WebRTC, and the recorder's plain ones; not the pipe consumers between routers and
 * nodes, whose packets reach no client) with at most CONCURRENCY requests in flight; and the pipe
 * transports to other nodes. Counters get each consumer's growth since its previous sample, so they
 * only increase: a consumer that closes keeps what it had at its last sample, and a value that goes
 * down (a receiver's cumulative loss may) adds nothing until it passes its highest.
 */
export class StatsSampler {
  readonly #cpu = new CpuShare();
  readonly #counted = new WeakMap<types.Consumer, Counted>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(
    readonly metrics: NodeMetrics,
    readonly view: MetricsView,
    readonly intervalMs: number,
  ) {}

  /** Takes the workers' first CPU reading now (the first round then has a share) and starts the rounds. */
  start(): void {
    for (const w of this.view.pool.workers) void this.#cpu.read(w);
    this.#schedule();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  /** One round; resolves when every metric it feeds is written. */
  async sample(): Promise<void> {
    const started = performance.now();
    const consumers = this.#clientConsumers();
    await Promise.all([this.#workers(), this.#consumers(consumers), this.#pipes()]);
    this.metrics.sampledConsumers.set(consumers.length);
    this.metrics.sampleSeconds.set((performance.now() - started) / 1000);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.sample()
        .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'sample round failed'))
        .finally(() => this.#schedule());
    }, this.intervalMs);
    this.#timer.unref();
  }

  async #workers(): Promise<void> {
    const workers = this.view.pool.workers;
    this.#cpu.keepOnly(workers.map((w) => w.worker.pid));
    await Promise.all(
      workers.map(async (w) => {
        const worker = String(w.index);
        this.metrics.workerCpu.set({ worker }, await this.#cpu.read(w));
        const rss = await residentBytes(w.worker.pid);
        if (rss !== undefined) this.metrics.workerMemory.set({ worker }, rss);
      }),
    );
  }

  #clientConsumers(): types.Consumer[] {
    const consumers: types.Consumer[] = [];
    for (const room of this.view.rooms.values()) {
      for (const peer of room.peers.values()) for (const consumer of peer.consumers.values()) if (!consumer.closed) consumers.push(consumer);
    }
    return consumers;
  }

  async #consumers(consumers: types.Consumer[]): Promise<void> {
    const grown = { audio: zero(), video: zero() } satisfies Record<MediaKind, Counted>;
    let scores = 0;
    let scored = 0;
    let low = 0;
    await eachLimited(consumers, CONCURRENCY, async (consumer) => {
      const stat = (await consumer.getStats().catch(() => [] as Stat[])).find((s) => s.type === 'outbound-rtp');
      if (!stat) return;
      const before = this.#counted.get(consumer) ?? zero();
      const now: Counted = { packets: stat.packetCount, bytes: stat.byteCount, lost: stat.packetsLost, nacks: stat.nackCount, plis: stat.pliCount, firs: stat.firCount };
      const highest = zero();
      for (const key of Object.keys(highest) as (keyof Counted)[]) {
        highest[key] = Math.max(before[key], now[key] || 0);
        grown[consumer.kind][key] += highest[key] - before[key];
      }
      this.#counted.set(consumer, highest);
      scores += stat.score;
      scored++;
      if (stat.score < LOW_SCORE) low++;
    });
    const m = this.metrics;
    for (const kind of ['audio', 'video'] as const) {
      m.packetsSent.inc({ kind }, grown[kind].packets);
      m.bytesSent.inc({ kind }, grown[kind].bytes);
      m.packetsLost.inc({ kind }, grown[kind].lost);
    }
    const all = sum(grown.audio, grown.video);
    m.nacks.inc(all.nacks);
    m.plis.inc(all.plis);
    m.firs.inc(all.firs);
    m.scoreAvg.set(scored > 0 ? scores / scored : 10);
    m.lowScore.set(low);
    m.lossRatio.set(all.packets > 0 ? Math.min(1, all.lost / all.packets) : 0);
  }

  async #pipes(): Promise<void> {
    let send = 0;
    let recv = 0;
    await eachLimited(this.view.pipeTransports(), CONCURRENCY, async (transport) => {
      for (const stat of await transport.getStats().catch(() => [])) {
        send += stat.sendBitrate;
        recv += stat.recvBitrate;
      }
    });
    this.metrics.pipeSendBps.set(send);
    this.metrics.pipeRecvBps.set(recv);
  }
}

const zero = (): Counted => ({ packets: 0, bytes: 0, lost: 0, nacks: 0, plis: 0, firs: 0 });

function sum(a: Counted, b: Counted): Counted {
  return { packets: a.packets + b.packets, bytes: a.bytes + b.bytes, lost: a.lost + b.lost, nacks: a.nacks + b.nacks, plis: a.plis + b.plis, firs: a.firs + b.firs };
}

/** Runs `run` on every item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}
