import type { types } from 'mediasoup';
import type { Peer as ProtooPeer, ProtooRequest } from 'protoo-server';
import { RateLimiterRes } from 'rate-limiter-flexible';
import type { MediaClaims } from '@podlive/shared/tokens';
import {
  MEDIA_PEER_CREATE_RATE, MEDIA_PEER_LIMITS, isMediaRequestMethod, mediaRequestSchemas, type MediaNotificationMethod, type MediaNotifications, type MediaPeerLimit, type MediaRequestData, type MediaRequestMethod,
} from '@podlive/shared/protocol';
import { MediaRequestError, toReject } from './errors';
import { moduleLogger } from './Logger';
import type { Room } from './Room';

const logger = moduleLogger('Peer');

/** One signalling connection in a room: its transports, producers and consumers, and its grant. */
export class Peer {
  readonly transports = new Map<string, types.WebRtcTransport>();
  readonly producers = new Map<string, types.Producer>();
  readonly consumers = new Map<string, types.Consumer>();
  /** The recorder's plain RTP transports, one per consumer. */
  readonly plainTransports = new Set<types.PlainTransport>();
  rtpCapabilities: types.RtpCapabilities | undefined;
  /** Muted by the host: this peer may not resume its producers by itself. */
  mutedByHost = false;
  #claims: MediaClaims;
  #closed = false;
  /** Creations under way, per limit: they count against MEDIA_PEER_LIMITS like open ones. */
  readonly #underWay: Record<MediaPeerLimit, number> = { transports: 0, producers: 0, consumers: 0 };

  constructor(
    readonly room: Room,
    readonly protoo: ProtooPeer,
    claims: MediaClaims,
  ) {
    this.#claims = claims;
    protoo.on('request', (request: ProtooRequest, accept: (data?: unknown) => void, reject: (code: number, reason: string) => void) => {
      this.#dispatch(request)
        .then((data) => accept(data))
        .catch((err: unknown) => {
          const { status, reason, internal } = toReject(err);
          if (internal) logger.error({ peerId: this.id, method: request.method, err }, 'request failed');
          reject(status, reason);
        });
    });
    protoo.on('close', () => this.close());
  }

  get id(): string {
    return this.protoo.id;
  }

  get claims(): MediaClaims {
    return this.#claims;
  }

  /** After a redeemed guest grant: this peer may produce. */
  promote(guestClaims: MediaClaims): void {
    this.#claims = guestClaims;
    this.notify('roleChanged', { role: 'guest' });
  }

  /** Back to viewer (removed, or left the stage): its producers close everywhere. */
  demote(reason: 'removed' | 'left'): void {
    if (this.#claims.role !== 'guest') return;
    this.#claims = { ...this.#claims, role: 'viewer', jti: undefined };
    this.mutedByHost = false;
    // Producers close (viewers everywhere get producerClosed); the send transport stays, unusable
    // without the guest role, so the client sees no transport loss to recover from.
    for (const producer of [...this.producers.values()]) producer.close();
    this.notify('roleChanged', { role: 'viewer', reason });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get canProduce(): boolean {
    return this.claims.role === 'host' || this.claims.role === 'guest';
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Closing the transports closes their producers and consumers.
    for (const transport of this.transports.values()) transport.close();
    for (const transport of this.plainTransports) transport.close();
    if (!this.protoo.closed) this.protoo.close();
    this.room.peerClosed(this);
  }

  /** Tells this peer's client something (fire-and-forget: a peer gone meanwhile misses it). */
  notify<M extends MediaNotificationMethod>(method: M, data: MediaNotifications[M]): void {
    if (this.protoo.closed) return;
    this.protoo.notify(method, data).catch(() => undefined);
  }

  async #dispatch(request: ProtooRequest): Promise<unknown> {
    const method = request.method;
    if (!isMediaRequestMethod(method)) throw MediaRequestError.badRequest(`unknown method ${method}`);
    const parsed = mediaRequestSchemas[method].safeParse(request.data ?? {});
    if (!parsed.success) {
      throw MediaRequestError.badRequest(`invalid ${method}: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    }
    return this.room.handle(this, method, parsed.data as MediaRequestData<MediaRequestMethod>);
  }

  /**
   * Runs `create` (which opens one more of `what` and registers it on this peer) if the peer is
   * below its limit (counting it as open while it runs) and its creation rate; otherwise refuses
   * with tooMany (429).
   */
  async withinLimit<T>(what: MediaPeerLimit, create: () => Promise<T>): Promise<T> {
    const open = what === 'transports' ? this.transports.size : what === 'producers' ? this.producers.size : this.consumers.size;
    const limit = MEDIA_PEER_LIMITS[what];
    if (open + this.#underWay[what] >= limit) throw MediaRequestError.tooMany(`at most ${limit} ${what} per connection`);
    this.#underWay[what]++;
    try {
      await this.room.options.creations?.consume(this.id).catch((err: unknown) => {
        if (err instanceof RateLimiterRes) {
          throw MediaRequestError.tooMany(`at most ${MEDIA_PEER_CREATE_RATE.creations} transports, producers and consumers per ${MEDIA_PEER_CREATE_RATE.windowSec} s`);
        }
        throw err;
      });
      return await create();
    } finally {
      this.#underWay[what]--;
    }
  }

  transport(transportId: string): types.WebRtcTransport {
    const transport = this.transports.get(transportId);
    if (!transport) throw MediaRequestError.notFound('transport', transportId);
    return transport;
  }
}
