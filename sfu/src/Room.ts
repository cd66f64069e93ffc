import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import protoo from 'protoo-server';
import type { WebSocketTransport } from 'protoo-server';
import type { MediaClaims } from '@podlive/shared/tokens';
import type { MediaNotifications, MediaRequestData, MediaRequestMethod, ProducerInfo } from '@podlive/shared/protocol';
import { mediaCodecs } from './media-codecs';
import { MediaRequestError } from './errors';
import { moduleLogger } from './Logger';
import { Peer } from './Peer';
import type { PoolWorker } from './WorkerPool';
import { handlers } from './room-handlers';
import type { GuestGrants } from './GuestGrants';
import { SpeakerWatch } from './SpeakerWatch';

const logger = moduleLogger('Room');

interface RoomEvents {
  close: [];
}

/** One live session on this node: a router on one worker, its peers and their media. */
export class Room extends EventEmitter<RoomEvents> {
  readonly #protoo = new protoo.Room();
  readonly peers = new Map<string, Peer>();
  #closed = false;

  private constructor(
    readonly id: string,
    readonly router: types.Router,
    readonly webRtcServer: types.WebRtcServer,
    readonly grants: GuestGrants | undefined,
    readonly speakers: SpeakerWatch,
  ) {
    super();
    router.on('workerclose', () => this.close('worker_died'));
  }

  /** `grants` checks guest grants; without it (tests of routing only) nobody can become a guest. */
  static async create(id: string, worker: PoolWorker, grants?: GuestGrants): Promise<Room> {
    const router = await worker.worker.createRouter({ mediaCodecs, appData: { roomId: id } });
    const room: Room = new Room(id, router, worker.webRtcServer, grants, await SpeakerWatch.create(router, (userId) => room.broadcast('activeSpeaker', { userId })));
    logger.info({ roomId: id, worker: worker.index }, 'room created');
    return room;
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

  /** Producers of every peer, for a joining client. */
  producerInfos(except?: Peer): ProducerInfo[] {
    const infos: ProducerInfo[] = [];
    for (const peer of this.peers.values()) {
      if (peer === except) continue;
      for (const producer of peer.producers.values()) infos.push({ producerId: producer.id, peerId: peer.id, kind: producer.kind });
    }
    return infos;
  }

  findProducer(producerId: string): types.Producer | undefined {
    for (const peer of this.peers.values()) {
      const producer = peer.producers.get(producerId);
      if (producer) return producer;
    }
    return undefined;
  }

  broadcast<M extends keyof MediaNotifications>(method: M, data: MediaNotifications[M], except?: Peer): void {
    for (const peer of this.peers.values()) if (peer !== except) peer.notify(method, data);
  }

  peerClosed(peer: Peer): void {
    if (!this.peers.delete(peer.id)) return;
    logger.info({ roomId: this.id, peerId: peer.id }, 'peer left');
    if (this.peers.size === 0) this.close('ended');
  }

  close(reason: MediaNotifications['roomClosed']['reason'] = 'ended'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.broadcast('roomClosed', { reason });
    for (const peer of [...this.peers.values()]) peer.close();
    this.peers.clear();
    this.#protoo.close();
    this.router.close();
    logger.info({ roomId: this.id, reason }, 'room closed');
    this.emit('close');
  }
}
