import type { NodeStatus, WorkerLoadReport } from '@podlive/shared/fleet';
import type { SfuConfig } from '../config';
import type { Room } from '../Room';
import type { WorkerPool } from '../WorkerPool';
import { CpuShare } from '../worker-usage';

/** What the fleet needs of its MediaNode. */
export interface NodeView {
  readonly rooms: ReadonlyMap<string, Room>;
  readonly pool: WorkerPool;
  /** The room of a session here, created when absent (a node below asks to be fed). */
  room(sid: string): Promise<Room>;
  readonly publicWsUrl: string;
  readonly controlUrl: string;
  /** host:port of the node's Prometheus endpoint, announced for discovery. */
  readonly metricsAddress: string;
}

/** Egress is summed from every transport's stats: costly with thousands, so only every few beats. */
const EGRESS_EVERY = 5;

/**
 * Builds this node's heartbeat: addresses, capacity, per-worker consumers/producers and CPU share
 * since the last beat (from getResourceUsage), egress bitrate, and the sessions it carries.
 */
export class StatusReporter {
  readonly #startedAt = Date.now();
  /** CPU share of each worker since the last beat. */
  readonly #cpu = new CpuShare();
  #beats = 0;
  #egressBps = 0;

  constructor(
    readonly config: SfuConfig,
    readonly view: NodeView,
  ) {}

  async status(draining: boolean, sessions: NodeStatus['sessions']): Promise<NodeStatus> {
    const now = Date.now();
    const workers = await Promise.all(this.view.pool.workers.map((w) => this.#workerLoad(w, now)));
    this.#cpu.keepOnly(workers.map((w) => w.pid));
    if (this.#beats++ % EGRESS_EVERY === 0) this.#egressBps = await this.#egress();
    let peers = 0;
    for (const room of this.view.rooms.values()) peers += room.peers.size;
    return {
      id: this.config.SFU_NODE_ID,
      publicWsUrl: this.view.publicWsUrl,
      controlUrl: this.view.controlUrl,
      pipeIp: this.config.SFU_PIPE_ANNOUNCED_IP ?? this.config.SFU_PIPE_IP ?? this.config.RTC_LISTEN_IP,
      region: this.config.SFU_REGION,
      capacity: this.config.SFU_CAPACITY,
      draining,
      pid: process.pid,
      startedAt: this.#startedAt,
      ts: now,
      load: {
        peers,
        consumers: workers.reduce((n, w) => n + w.consumers, 0),
        producers: workers.reduce((n, w) => n + w.producers, 0),
        egressBps: this.#egressBps,
        workers,
      },
      sessions,
    };
  }

  async #workerLoad(w: WorkerPool['workers'][number], now: number): Promise<WorkerLoadReport> {
    const cpu = await this.#cpu.read(w, now);
    return { index: w.index, pid: w.worker.pid, routers: w.routers.size, consumers: w.counts.consumers, producers: w.counts.producers, cpu: Math.round(cpu * 1000) / 1000 };
  }

  async #egress(): Promise<number> {
    const transports = [...this.view.rooms.values()].flatMap((room) => [...room.peers.values()].flatMap((peer) => [...peer.transports.values()]));
    const stats = await Promise.all(transports.map((t) => t.getStats().catch(() => [])));
    return stats.flat().reduce((bps, s) => bps + ('sendBitrate' in s ? s.sendBitrate : 0), 0);
  }
}
