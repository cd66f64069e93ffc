import type { types } from 'mediasoup';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@podlive/shared/metrics';
import { mediaErrorCodes } from '@podlive/shared/protocol';
import { mediaRoles } from '@podlive/shared/tokens';
import type { SfuConfig } from './config';
import type { Room } from './Room';
import type { MediaKind, TransportType, WorkerPool } from './WorkerPool';

/** What the metrics read of their node at each scrape. */
export interface MetricsView {
  readonly rooms: ReadonlyMap<string, Room>;
  readonly pool: WorkerPool;
  /** SFU_CAPACITY: the consumers this node is meant to carry. */
  readonly config: Pick<SfuConfig, 'SFU_CAPACITY'>;
  readonly draining: boolean;
  /** The pipe transports to other nodes of the fleet (none without one). */
  pipeTransports(): types.PipeTransport[];
}

const KINDS: readonly MediaKind[] = ['audio', 'video'];
const TRANSPORT_TYPES: readonly Exclude<TransportType, 'direct'>[] = ['webrtc', 'pipe', 'plain'];

/** A connection's role label: its token's role, or `unknown` when refused before the token was read. */
export type JoinRole = (typeof mediaRoles)[number] | 'unknown';
/**
 * A join's result label: `ok`, or the status the connection was refused with (the node's own
 * codes: 401 for a missing or bad token, mediaErrorCodes for the rest); anything else is `other`.
 */
const REFUSALS = new Set<number>([401, ...Object.values(mediaErrorCodes)]);
export const joinResult = (refusedWith?: number): string => (refusedWith === undefined ? 'ok' : REFUSALS.has(refusedWith) ? String(refusedWith) : 'other');

/**
 * The node's Prometheus metrics (names fixed: deploy/monitoring's dashboard and alerts use them).
 * Counts of what the node holds are read at scrape time (collect) from its rooms and the pool's
 * tallies; what needs mediasoup's stats is written by the StatsSampler every sample round. No label
 * carries an id: only worker (index), kind, role, type and result.
 */
export class NodeMetrics {
  readonly registry: Registry = createMetricsRegistry();

  // ---- sampled every round (StatsSampler)
  readonly workerCpu = this.#gauge('podlive_sfu_worker_cpu_ratio', 'Share of one core a mediasoup worker used over the last sample round', ['worker']);
  readonly workerMemory = this.#gauge('podlive_sfu_worker_memory_bytes', 'Resident memory of a mediasoup worker process (VmRSS, now: not the peak)', ['worker']);
  readonly packetsSent = this.#counter('podlive_sfu_packets_sent_total', 'RTP packets sent to clients by their consumers (WebRTC and plain transports; retransmissions included)', ['kind']);
  readonly bytesSent = this.#counter('podlive_sfu_bytes_sent_total', 'RTP bytes sent to clients by their consumers', ['kind']);
  readonly packetsLost = this.#counter('podlive_sfu_packets_lost_total', 'Packets the clients report lost (RTCP receiver reports) on their consumers', ['kind']);
  readonly nacks = this.#counter('podlive_sfu_nacks_total', 'NACKs received from clients on their consumers');
  readonly plis = this.#counter('podlive_sfu_plis_total', 'PLIs (key frame requests) received from clients on their consumers');
  readonly firs = this.#counter('podlive_sfu_firs_total', 'FIRs (key frame requests) received from clients on their consumers');
  /** 10 with no consumers: an idle node neither alerts nor makes a fleet-wide average NaN (weight by podlive_sfu_stats_sampled_consumers). */
  readonly scoreAvg = this.#gauge('podlive_sfu_consumer_score_avg', 'Mean mediasoup score (0-10) of the clients\' consumers at the last sample round; 10 when there were none');
  readonly lowScore = this.#gauge('podlive_sfu_consumers_low_score', 'Clients\' consumers with a score below 7 at the last sample round');
  readonly lossRatio = this.#gauge('podlive_sfu_consumer_loss_ratio', 'Packets lost / packets sent over the last sample round, node-wide (0 when nothing was sent)');
  readonly pipeSendBps = this.#gauge('podlive_sfu_pipe_send_bits_per_second', 'Bitrate sent to other nodes over pipe transports, at the last sample round');
  readonly pipeRecvBps = this.#gauge('podlive_sfu_pipe_recv_bits_per_second', 'Bitrate received from other nodes over pipe transports, at the last sample round');
  readonly sampleSeconds = this.#gauge('podlive_sfu_stats_sample_seconds', 'How long the last sample round of mediasoup stats took');
  readonly sampledConsumers = this.#gauge('podlive_sfu_stats_sampled_consumers', 'Consumers whose stats the last sample round read');

  // ---- counted as they happen
  readonly joins = this.#counter('podlive_sfu_joins_total', 'Signalling connections asking to join a live: ok, or the status they were refused with', ['role', 'result']);
  readonly keyFrameRequests = this.#counter('podlive_sfu_keyframe_requests_total', 'Key frame requests the node makes itself (a viewer\'s consumer resumed, the recorder asking)');

  constructor(readonly view: MetricsView) {
    const counted = (name: string, help: string, count: () => number) =>
      this.#gauge(name, help, [], (gauge) => gauge.set(count()));
    const workers = () => view.pool.workers;
    const sum = (pick: (w: ReturnType<typeof workers>[number]) => number) => workers().reduce((n, w) => n + pick(w), 0);
    counted('podlive_sfu_lives', 'Lives (rooms) on this node', () => view.rooms.size);
    counted('podlive_sfu_viewers', 'Viewer connections on this node', () => this.#peersByRole().viewer);
    counted('podlive_sfu_routers', 'mediasoup routers on this node', () => sum((w) => w.routers.size));
    counted('podlive_sfu_pipe_transports', 'Pipe transports to other nodes of the fleet', () => view.pipeTransports().length);
    counted('podlive_sfu_capacity_consumers', 'Consumers this node is meant to carry (SFU_CAPACITY)', () => view.config.SFU_CAPACITY);
    counted('podlive_sfu_draining', '1 while the node drains (takes no new viewers), else 0', () => (view.draining ? 1 : 0));
    this.#gauge('podlive_sfu_peers', 'Signalling connections in this node\'s rooms, by role', ['role'], (gauge) => {
      for (const [role, n] of Object.entries(this.#peersByRole())) gauge.set({ role }, n);
    });
    this.#gauge('podlive_sfu_transports', 'mediasoup transports on this node, by type (pipe: between nodes and between this node\'s own routers)', ['type'], (gauge) => {
      for (const type of TRANSPORT_TYPES) gauge.set({ type }, sum((w) => w.tally.transports[type]));
    });
    this.#gauge('podlive_sfu_producers', 'mediasoup producers on this node, by kind (a client\'s, a pipe\'s, and their copies on this node\'s other routers)', ['kind'], (gauge) => {
      for (const kind of KINDS) gauge.set({ kind }, sum((w) => w.tally.producers[kind]));
    });
    this.#gauge('podlive_sfu_consumers', 'mediasoup consumers on this node, by kind (clients\' and pipes\': the capacity measure)', ['kind'], (gauge) => {
      for (const kind of KINDS) gauge.set({ kind }, sum((w) => w.tally.consumers[kind]));
    });
    this.#gauge('podlive_sfu_capacity_used_ratio', 'How full the node is for placement: the larger of consumers / capacity and the busiest worker\'s CPU share (shared/fleet nodeLoadScore)', [], async (gauge) => {
      const busiest = Math.max(0, ...(await this.workerCpu.get()).values.map((v) => v.value));
      gauge.set(Math.max(sum((w) => w.counts.consumers) / view.config.SFU_CAPACITY, busiest));
    });
    for (const kind of KINDS) for (const counter of [this.packetsSent, this.bytesSent, this.packetsLost]) counter.inc({ kind }, 0);
    for (const role of mediaRoles) this.joins.inc({ role, result: 'ok' }, 0);
    this.scoreAvg.set(10);
  }

  #peersByRole(): Record<(typeof mediaRoles)[number], number> {
    const roles = { host: 0, guest: 0, viewer: 0, recorder: 0 };
    for (const room of this.view.rooms.values()) for (const peer of room.peers.values()) roles[peer.claims.role]++;
    return roles;
  }

  /** A gauge; with `collect`, set at each scrape. */
  #gauge<L extends string>(name: string, help: string, labelNames: L[] = [], collect?: (gauge: Gauge<L>) => void | Promise<void>): Gauge<L> {
    const gauge: Gauge<L> = new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect: () => collect(gauge) } : {}) });
    return gauge;
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }
}
