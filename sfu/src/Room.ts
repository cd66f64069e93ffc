import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { RateLimiterMemory } from 'rate-limiter-flexible';
import protoo from 'protoo-server';
import type { WebSocketTransport } from 'protoo-server';
import { SafeEmitter } from '@podlive/shared/emitter';
import type { MediaClaims } from '@podlive/shared/tokens';
import type { MediaNotifications, MediaRequestData, MediaRequestMethod, ProducerInfo } from '@podlive/shared/protocol';
import { mediaCodecs } from './media-codecs';
import { MediaRequestError } from './errors';
import { moduleLogger } from './Logger';
import { Peer } from './Peer';
import type { PoolWorker, WorkerPool } from './WorkerPool';
import { handlers } from './room-handlers';
import type { GuestGrants } from './GuestGrants';
import { SpeakerWatch } from './SpeakerWatch';

const logger = moduleLogger('Room');

export type RoomCloseReason = MediaNotifications['roomClosed']['reason'];

/** A producer of the session as this node has it: a local peer's, or one piped in from another node. */
export interface RoomProducer {
  producer: types.Producer;
  peerId: string;
  userId: string;
  source: string;
  /** The neighbour node it came from (a pipe), or undefined when a peer of this node produces it. */
  via?: string;
}

/** What clients are told of a producer. */
const producerInfo = (entry: RoomProducer): ProducerInfo => ({
  producerId: entry.producer.id, peerId: entry.peerId, kind: entry.producer.kind, userId: entry.userId, source: entry.source,
});

/** A router of this room and the WebRtcServer of its worker. */
export interface RoomRouter {
  router: types.Router;
  webRtcServer: types.WebRtcServer;
}

interface RoomEvents {
  close: [reason: RoomCloseReason];
  /** A producer joined the room (the fleet forwards it to the neighbours it didn't come from). */
  producer: [RoomProducer];
}

export interface RoomOptions {
  /** Checks guest grants; without it (tests of routing only) nobody can become a guest. */
  grants?: GuestGrants;
  /** Coalesces key frame requests to local video producers (ms; mediasoup's keyFrameRequestDelay). */
  keyFrameRequestDelay?: number;
  /** Where the recorder's PlainTransports listen (default 127.0.0.1). */
  plainListenIp?: string;
  /** Creations (transports, producers, consumers) per peer per window (MEDIA_PEER_CREATE_RATE); none: unlimited. */
  creations?: RateLimiterMemory;
  /** Counts the key frame requests the node makes (the node's metrics; none: not counted). */
  keyFrameRequests?: { inc(): void };
}

/**
 * One live session on this node. Producers (local, or piped in from other nodes) live on the main
 * router; viewers' receive transports go to the least loaded worker of the node, whose router gets
 * the producers it needs through `pipeToRouter`, so one big live uses every core of the node.
 */
export class Room extends SafeEmitter<RoomEvents> {
  readonly #protoo = new protoo.Room();
  readonly peers = new Map<string, Peer>();
  readonly producers = new Map<string, RoomProducer>();
  /** Nodes this room feeds through pipes (the fleet keeps it): the room stays open while it has any. */
  readonly feeds = new Set<string>();
  /** Routers on other workers than the main one, by worker index. */
  readonly #spread = new Map<number, Promise<RoomRouter>>();
  /** `${routerId}:${producerId}` → the pipe from the main router, once. */
  readonly #piped = new Map<string, Promise<unknown>>();
  #closed = false;

  private constructor(
    readonly id: string,
    readonly main: RoomRouter,
    readonly mainWorker: PoolWorker,
    readonly pool: WorkerPool | undefined,
    readonly options: RoomOptions,
    readonly speakers: SpeakerWatch,
  ) {
    super(logger);
    main.router.on('workerclose', () => this.close('worker_died'));
  }

  /** On the least loaded worker of `pool` (or on `worker` alone, for tests of one worker). */
  static async create(id: string, pool: WorkerPool | PoolWorker, options: RoomOptions = {}): Promise<Room> {
    const worker = 'leastLoaded' in pool ? pool.leastLoaded() : pool;
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { roomId: id } });
    const speakers = await SpeakerWatch.create(router, (userId) => room.broadcast('activeSpeaker', { userId }));
    const room: Room = new Room(id, { router, webRtcServer: worker.webRtcServer }, worker, 'leastLoaded' in pool ? pool : undefined, options, speakers);
    logger.info({ roomId: id, worker: worker.index }, 'room created');
    return room;
  }

  get router(): types.Router {
    return this.main.router;
  }

  get grants(): GuestGrants | undefined {
    return this.options.grants;
  }

  /** Every peer of a user in this room (a user may have two tabs). */
  peersOf(userId: string): Peer[] {
    return [...this.peers.values()].filter((p) => p.claims.sub === userId);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Accepts a verified connection into the room. */
  join(claims: MediaClaims, transport: WebSocketTransport): Peer {
    if (this.#closed) throw new Error('room closed');
    const protooPeer = this.#protoo.createPeer(`${claims.sub}#${randomUUID().slice(0, 8)}`, transport);
    const peer = new Peer(this, protooPeer, claims);
    this.peers.set(peer.id, peer);
    logger.info({ roomId: this.id, peerId: peer.id, role: claims.role }, 'peer joined');
    return peer;
  }

  handle(peer: Peer, method: MediaRequestMethod, data: MediaRequestData<MediaRequestMethod>): Promise<unknown> {
    if (this.#closed) throw MediaRequestError.notFound('room', this.id);
    const handler = handlers[method] as (room: Room, peer: Peer, data: unknown) => Promise<unknown>;
    return handler(this, peer, data);
  }

  /**
   * A producer of the session arrived (from `owner` on this node, or through a pipe): the room's
   * peers are told, its audio joins the speaker watch, and the fleet forwards it. It leaves the room
   * by itself when closed.
   */
  addProducer(entry: RoomProducer, owner?: Peer): void {
    const { producer } = entry;
    if (this.#closed || this.producers.has(producer.id)) {
      producer.close();
      return;
    }
    this.producers.set(producer.id, entry);
    producer.observer.once('close', () => {
      if (this.producers.get(producer.id) !== entry) return;
      this.producers.delete(producer.id);
      if (!this.#closed) this.broadcast('producerClosed', { producerId: producer.id }, owner);
    });
    void this.speakers.add(producer);
    this.broadcast('newProducer', producerInfo(entry), owner);
    this.safeEmit('producer', entry);
  }

  /** Producers of the session, for a joining client (not its own). */
  producerInfos(except?: Peer): ProducerInfo[] {
    const infos: ProducerInfo[] = [];
    for (const entry of this.producers.values()) {
      if (except && entry.peerId === except.id) continue;
      infos.push(producerInfo(entry));
    }
    return infos;
  }

  findProducer(producerId: string): types.Producer | undefined {
    return this.producers.get(producerId)?.producer;
  }

  /** Where a new receive transport goes: the room's router on the node's least loaded worker. */
  async receiveRouter(): Promise<RoomRouter> {
    const worker = this.pool?.leastLoaded() ?? this.mainWorker;
    if (worker === this.mainWorker || worker.worker.closed) return this.main;
    let pending = this.#spread.get(worker.index);
    if (!pending) {
      pending = worker.worker.createRouter({ mediaCodecs, appData: { roomId: this.id } }).then((router) => {
        const entry = { router, webRtcServer: worker.webRtcServer };
        // A dead worker: forget its router; its transports close and their clients make new ones.
        router.observer.once('close', () => {
          if (this.#spread.get(worker.index) === pending) this.#spread.delete(worker.index);
        });
        return entry;
      });
      this.#spread.set(worker.index, pending);
      pending.catch(() => this.#spread.delete(worker.index));
    }
    return pending;
  }

  /** Makes `producerId` consumable on `router` (piped from the main router once). */
  async reach(router: types.Router, producerId: string): Promise<void> {
    if (router === this.main.router) return;
    const key = `${router.id}:${producerId}`;
    let pending = this.#piped.get(key);
    if (!pending) {
      pending = this.main.router.pipeToRouter({ producerId, router });
      this.#piped.set(key, pending);
      pending.catch(() => this.#piped.delete(key));
      const producer = this.findProducer(producerId);
      producer?.observer.once('close', () => this.#piped.delete(key));
    }
    await pending;
  }

  broadcast<M extends keyof MediaNotifications>(method: M, data: MediaNotifications[M], except?: Peer): void {
    for (const peer of this.peers.values()) if (peer !== except) peer.notify(method, data);
  }

  peerClosed(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    logger.info({ roomId: this.id, peerId: peer.id }, 'peer left');
    this.closeIfUnused();
  }

  /** No peer here and no node fed through here: nothing to keep. */
  closeIfUnused(): void {
    if (this.peers.size === 0 && this.feeds.size === 0) this.close('ended');
  }

  close(reason: RoomCloseReason = 'ended'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.broadcast('roomClosed', { reason });
    for (const peer of [...this.peers.values()]) peer.close();
    this.peers.clear();
    this.#protoo.close();
    this.main.router.close();
    for (const pending of this.#spread.values()) void pending.then(({ router }) => router.close(), () => undefined);
    logger.info({ roomId: this.id, reason }, 'room closed');
    this.safeEmit('close', reason);
  }
}
