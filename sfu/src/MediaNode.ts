import './worker-bin';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import protoo from 'protoo-server';
import { healthReport } from '@podlive/shared/health';
import { MEDIA_TOKEN_PARAM } from '@podlive/shared/protocol';
import { MediaTokenError, verifyMediaToken, type MediaClaims } from '@podlive/shared/tokens';
import type { SfuConfig } from './config';
import { moduleLogger } from './Logger';
import { Room } from './Room';
import { WorkerPool } from './WorkerPool';
import { controlRoutes } from './control';
import { GuestGrants } from './GuestGrants';
import { Fleet } from './fleet/Fleet';
import pkg from '../package.json' with { type: 'json' };

const logger = moduleLogger('MediaNode');

/**
 * One SFU node: the worker pool, the rooms on it, an HTTP server for /health, and protoo
 * signalling on the same port. Clients connect with `?token=<media token>`; the token names the
 * session (room), the role and this node, and nothing else gets in.
 */
export class MediaNode {
  readonly rooms = new Map<string, Room>();
  /** Room creation in progress, so two peers arriving together don't create two rooms. */
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #grants: GuestGrants;
  /** Membership in the fleet (REDIS_URL set); without it this node is alone. */
  fleet: Fleet | undefined;
  #closed = false;

  private constructor(
    readonly config: SfuConfig,
    readonly pool: WorkerPool,
    readonly http: FastifyInstance,
  ) {
    this.#grants = new GuestGrants(config.MEDIA_TOKEN_SECRET, config.SFU_NODE_ID);
  }

  static async start(config: SfuConfig): Promise<MediaNode> {
    const pool = await WorkerPool.create({
      count: config.SFU_WORKERS,
      listenIp: config.RTC_LISTEN_IP,
      portBase: config.RTC_PORT_BASE,
      ...(config.RTC_ANNOUNCED_IP ? { announcedIp: config.RTC_ANNOUNCED_IP } : {}),
    });
    const http = Fastify({ loggerInstance: moduleLogger('http') as FastifyBaseLogger });
    const node = new MediaNode(config, pool, http);
    http.get('/health', async () => node.health());
    http.register(controlRoutes, { prefix: '/control', nodeId: config.SFU_NODE_ID, secret: config.MEDIA_TOKEN_SECRET, rooms: node.rooms });
    try {
      await http.listen({ host: config.SFU_HOST, port: config.SFU_PORT });
    } catch (err) {
      pool.close();
      throw err;
    }
    const wss = new protoo.WebSocketServer(http.server, { maxReceivedFrameSize: 960000, maxReceivedMessageSize: 960000 });
    wss.on('connectionrequest', (info, accept, reject) => {
      node.#connect(info.request.url ?? '', accept, reject).catch((err: unknown) => {
        logger.error({ err }, 'connection failed');
        reject(500, 'internal error');
      });
    });
    if (config.REDIS_URL) {
      try {
        node.fleet = await Fleet.start(config, node);
      } catch (err) {
        await node.close();
        throw err;
      }
    }
    logger.info({ nodeId: config.SFU_NODE_ID, url: node.url, workers: config.SFU_WORKERS, fleet: Boolean(node.fleet) }, 'media node ready');
    return node;
  }

  /** The bound HTTP address (the port may have been 0). */
  get url(): string {
    const address = this.http.server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.SFU_PORT;
    return `http://${this.config.SFU_HOST}:${port}`;
  }

  /** The protoo WebSocket URL browsers open (SFU_PUBLIC_WS_URL, or this server's own address). */
  get publicWsUrl(): string {
    return this.config.SFU_PUBLIC_WS_URL ?? this.url.replace(/^http/, 'ws');
  }

  /** Where the control plane sends /control commands. */
  get controlUrl(): string {
    return this.config.SFU_CONTROL_URL ?? this.url;
  }

  async health() {
    const workers = await this.pool.loads();
    return healthReport('sfu', pkg.version, {
      nodeId: this.config.SFU_NODE_ID,
      rooms: this.rooms.size,
      peers: [...this.rooms.values()].reduce((n, room) => n + room.peers.size, 0),
      workers,
      draining: this.fleet?.draining ?? false,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const room of [...this.rooms.values()]) room.close('node_shutdown');
    await this.fleet?.close();
    await this.http.close();
    this.pool.close();
    logger.info('media node closed');
  }

  async #connect(
    requestUrl: string,
    accept: () => protoo.WebSocketTransport,
    reject: (code: number, reason: string) => void,
  ): Promise<void> {
    const token = new URL(requestUrl, 'http://node').searchParams.get(MEDIA_TOKEN_PARAM);
    if (!token) return reject(401, 'missing token');
    let claims: MediaClaims;
    try {
      claims = await verifyMediaToken(this.config.MEDIA_TOKEN_SECRET, token, this.config.SFU_NODE_ID);
    } catch (err) {
      if (err instanceof MediaTokenError) return reject(err.reason === 'wrong_node' ? 403 : 401, err.message);
      throw err;
    }
    if (this.#closed) return reject(503, 'node shutting down');
    // The recorder records a live that is on this node; it never opens one (the live may have ended).
    if (claims.role === 'recorder' && !this.rooms.get(claims.sid)) return reject(404, 'no such live on this node');
    const room = await this.room(claims.sid);
    room.join(claims, accept());
  }

  /** The room of a session on this node, created (and, in a fleet, attached) when absent. */
  room(roomId: string): Promise<Room> {
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) return Promise.resolve(existing);
    let pending = this.#creating.get(roomId);
    if (!pending) {
      const options = { grants: this.#grants, keyFrameRequestDelay: this.config.SFU_KEYFRAME_DELAY_MS, plainListenIp: this.config.SFU_PIPE_IP ?? this.config.RTC_LISTEN_IP };
      pending = Room.create(roomId, this.pool, options).then((room) => {
        this.rooms.set(roomId, room);
        this.fleet?.roomCreated(room);
        room.once('close', () => {
          if (this.rooms.get(roomId) === room) this.rooms.delete(roomId);
        });
        return room;
      });
      pending.finally(() => this.#creating.delete(roomId)).catch(() => undefined);
      this.#creating.set(roomId, pending);
    }
    return pending;
  }
}
