import * as mediasoup from 'mediasoup';
import { SafeEmitter } from '@podlive/shared/emitter';
import type { types } from 'mediasoup';
import { moduleLogger } from './Logger';

const logger = moduleLogger('WorkerPool');

export interface WorkerPoolOptions {
  /** Number of workers, one per core by default. */
  count: number;
  /** Concrete listen address for the WebRtcServers (never 0.0.0.0 here: see the facts file). */
  listenIp: string;
  announcedIp?: string;
  /** Worker i listens on portBase + i, UDP and TCP. */
  portBase: number;
}

export type TransportType = 'webrtc' | 'plain' | 'pipe' | 'direct';
export type MediaKind = 'audio' | 'video';

/** What a worker holds, by type and kind, kept from its observer events (the node's metrics count them). */
export interface WorkerTally {
  transports: Record<TransportType, number>;
  producers: Record<MediaKind, number>;
  consumers: Record<MediaKind, number>;
}

export interface PoolWorker {
  index: number;
  worker: types.Worker;
  webRtcServer: types.WebRtcServer;
  /** Routers living on this worker. */
  routers: Set<types.Router>;
  /** Consumers and producers on this worker (WebRTC and pipes): the pool's load measure. */
  counts: { consumers: number; producers: number };
  tally: WorkerTally;
}

function transportType(transport: types.Transport): TransportType {
  if (transport instanceof mediasoup.types.WebRtcTransport) return 'webrtc';
  if (transport instanceof mediasoup.types.PlainTransport) return 'plain';
  if (transport instanceof mediasoup.types.PipeTransport) return 'pipe';
  return 'direct';
}

export interface WorkerLoad {
  index: number;
  pid: number;
  routers: number;
  consumers: number;
  producers: number;
  /** CPU time used so far (user + system), milliseconds. */
  cpuMs: number;
  port: number;
}

interface WorkerPoolEvents {
  /** A worker died; it is being replaced. Its routers emit 'workerclose' (rooms close themselves). */
  workerdied: [index: number];
}

/** One mediasoup worker per core, each with one WebRtcServer (one UDP + one TCP port). */
export class WorkerPool extends SafeEmitter<WorkerPoolEvents> {
  readonly #options: WorkerPoolOptions;
  readonly #workers: PoolWorker[] = [];
  #closed = false;

  private constructor(options: WorkerPoolOptions) {
    super(logger);
    this.#options = options;
  }

  static async create(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      for (let i = 0; i < options.count; i++) pool.#workers.push(await pool.#start(i));
    } catch (err) {
      pool.close();
      throw err;
    }
    return pool;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get workers(): readonly PoolWorker[] {
    return this.#workers;
  }

  /** The worker with the fewest consumers, then the fewest routers (ties: the lowest index). */
  leastLoaded(): PoolWorker {
    if (this.#closed) throw new Error('WorkerPool closed');
    const weight = (w: PoolWorker) => w.counts.consumers * 1000 + w.routers.size;
    return this.#workers.reduce((best, w) => (weight(w) < weight(best) ? w : best));
  }

  async loads(): Promise<WorkerLoad[]> {
    return Promise.all(
      this.#workers.map(async (w) => {
        const usage = await w.worker.getResourceUsage().catch(() => ({ ru_utime: 0, ru_stime: 0 }));
        return {
          index: w.index,
          pid: w.worker.pid,
          routers: w.routers.size,
          consumers: w.counts.consumers,
          producers: w.counts.producers,
          cpuMs: Math.round(usage.ru_utime + usage.ru_stime),
          port: this.#options.portBase + w.index,
        };
      }),
    );
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#workers) w.worker.close();
    this.#workers.length = 0;
  }

  async #start(index: number): Promise<PoolWorker> {
    const { listenIp, announcedIp, portBase } = this.#options;
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    const port = portBase + index;
    const listen = (protocol: 'udp' | 'tcp') => ({ protocol, ip: listenIp, port, ...(announcedIp ? { announcedIp } : {}) });
    let webRtcServer: types.WebRtcServer;
    try {
      webRtcServer = await worker.createWebRtcServer({ listenInfos: [listen('udp'), listen('tcp')] });
    } catch (err) {
      worker.close();
      throw new Error(`worker ${index}: cannot listen on ${listenIp}:${port} (udp+tcp): ${(err as Error).message}`);
    }
    const tally: WorkerTally = { transports: { webrtc: 0, plain: 0, pipe: 0, direct: 0 }, producers: { audio: 0, video: 0 }, consumers: { audio: 0, video: 0 } };
    const entry: PoolWorker = { index, worker, webRtcServer, routers: new Set(), counts: { consumers: 0, producers: 0 }, tally };
    const count = (what: 'consumers' | 'producers', kind: MediaKind, observer: { once(event: 'close', listener: () => void): unknown }) => {
      entry.counts[what]++;
      tally[what][kind]++;
      observer.once('close', () => {
        entry.counts[what]--;
        tally[what][kind]--;
      });
    };
    worker.observer.on('newrouter', (router: types.Router) => {
      entry.routers.add(router);
      router.observer.once('close', () => entry.routers.delete(router));
      router.observer.on('newtransport', (transport: types.Transport) => {
        const type = transportType(transport);
        tally.transports[type]++;
        transport.observer.once('close', () => tally.transports[type]--);
        transport.observer.on('newconsumer', (consumer: types.Consumer) => count('consumers', consumer.kind, consumer.observer));
        transport.observer.on('newproducer', (producer: types.Producer) => count('producers', producer.kind, producer.observer));
      });
    });
    worker.on('died', (err) => void this.#replace(entry, err));
    logger.info({ index, pid: worker.pid, port }, 'worker started');
    return entry;
  }

  async #replace(dead: PoolWorker, err: Error): Promise<void> {
    logger.error({ index: dead.index, pid: dead.worker.pid, err: err.message }, 'worker died');
    if (this.#closed) return;
    this.safeEmit('workerdied', dead.index);
    try {
      const fresh = await this.#start(dead.index);
      if (this.#closed) {
        fresh.worker.close();
        return;
      }
      this.#workers[this.#workers.indexOf(dead)] = fresh;
    } catch (startErr) {
      logger.fatal({ index: dead.index, err: (startErr as Error).message }, 'cannot replace dead worker');
    }
  }
}
