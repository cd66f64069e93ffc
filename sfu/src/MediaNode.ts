import './worker-bin';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { types } from 'mediasoup';
import type protoo from 'protoo-server';
import { healthReport } from '@podlive/shared/health';
import { serveMetrics, type MetricsEndpoint } from '@podlive/shared/metrics';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { MEDIA_PEER_CREATE_RATE, MEDIA_TOKEN_PARAM, mediaErrorCodes } from '@podlive/shared/protocol';
import { MediaTokenError, verifyMediaToken, type MediaClaims } from '@podlive/shared/tokens';
import type { SfuConfig } from './config';
import { moduleLogger } from './Logger';
import { Room } from './Room';
import { WorkerPool } from './WorkerPool';
import { controlRoutes } from './control';
import { GuestGrants } from './GuestGrants';
import { controlPlaneGrantCheck } from './grant-check';
import { Fleet } from './fleet/Fleet';
import { EndedSessions } from './EndedSessions';
import { serveSignalling, type ConnectAttempt } from './signalling-server';
import { joinResult, NodeMetrics } from './metrics';
import { StatsSampler } from './StatsSampler';
import pkg from '../package.json' with { type: 'json' };

const logger = moduleLogger('MediaNode');

/** The public port answers every plain HTTP request with this: it serves the WebSocket only. */
function notFound(_request: unknown, response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'this port serves the signalling WebSocket only' } }));
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * One SFU node: the worker pool and the rooms on it, and two listeners. The public one
 * (SFU_HOST:SFU_PORT) serves only protoo signalling, with a per-address connection rate limit.
 * The internal one (SFU_CONTROL_HOST:SFU_CONTROL_PORT, loopback by default) serves /health,
 * /control and protoo for the recorder. Clients connect with `?token=<media token>`; the token
 * names the session (room), the role and this node, and nothing else gets in. A third listener,
 * METRICS_HOST:METRICS_PORT, serves Prometheus' /metrics (shared/src/metrics.ts).
 */
export class MediaNode {
  readonly rooms = new Map<string, Room>();
  /** Room creation in progress, so two peers arriving together don't create two rooms. */
  readonly #creating = new Map<string, Promise<Room>>();
  readonly #grants: GuestGrants;
  /** Every peer's creations per window (MEDIA_PEER_CREATE_RATE), keyed by peer id. */
  readonly #creations = new RateLimiterMemory({ points: MEDIA_PEER_CREATE_RATE.creations, duration: MEDIA_PEER_CREATE_RATE.windowSec });
  /** Lives the control plane ended here: their rooms are not made again (tokens outlive the end). */
  readonly #ended = new EndedSessions();
  /** Emits `room` / `ended` with the session id when a room opens / a live ends here, `close` when the node closes: recorders may be waiting for a room. */
  readonly #opened = new EventEmitter().setMaxListeners(0);
  /** Membership in the fleet (REDIS_URL set); without it this node is alone. */
  fleet: Fleet | undefined;
  /** Prometheus' metrics of this node, and the background reading of mediasoup's stats they need. */
  readonly metrics: NodeMetrics;
  readonly #sampler: StatsSampler;
  #metricsEndpoint: MetricsEndpoint | undefined;
  #closed = false;

  private constructor(
    readonly config: SfuConfig,
    readonly pool: WorkerPool,
    /** The public listener: protoo only. */
    readonly server: Server,
    /** The internal listener: /health, /control, protoo for the recorder. */
    readonly http: FastifyInstance,
  ) {
    this.#grants = new GuestGrants(config.MEDIA_TOKEN_PUBLIC_KEY, config.SFU_NODE_ID, controlPlaneGrantCheck(config.SERVER_URL));
    this.metrics = new NodeMetrics(this);
    this.#sampler = new StatsSampler(this.metrics, this, config.SFU_METRICS_SAMPLE_MS);
  }

  static async start(config: SfuConfig): Promise<MediaNode> {
    const pool = await WorkerPool.create({
      count: config.SFU_WORKERS,
      listenIp: config.RTC_LISTEN_IP,
      portBase: config.RTC_PORT_BASE,
      ...(config.RTC_ANNOUNCED_IP ? { announcedIp: config.RTC_ANNOUNCED_IP } : {}),
    });
    const http = Fastify({ loggerInstance: moduleLogger('http') as FastifyBaseLogger });
    const node = new MediaNode(config, pool, createServer(notFound), http);
    http.get('/health', async () => node.health());
    http.register(controlRoutes, { prefix: '/control', nodeId: config.SFU_NODE_ID, publicKey: config.MEDIA_TOKEN_PUBLIC_KEY, rooms: node.rooms, endSession: (sid) => node.endSession(sid), grants: node.#grants });
    try {
      await http.listen({ host: config.SFU_CONTROL_HOST, port: config.SFU_CONTROL_PORT });
      await listen(node.server, config.SFU_HOST, config.SFU_PORT);
      node.#metricsEndpoint = await serveMetrics(node.metrics.registry, config);
    } catch (err) {
      await http.close();
      if (node.server.listening) node.server.close();
      pool.close();
      throw err;
    }
    node.#sampler.start();
    const connect = (url: string, accept: () => protoo.WebSocketTransport, reject: (code: number, reason: string) => void, attempt: ConnectAttempt) =>
      node.#connect(url, accept, reject, attempt);
    const outcome = (attempt: ConnectAttempt, refusedWith?: number) => node.metrics.joins.inc({ role: attempt.role ?? 'unknown', result: joinResult(refusedWith) });
    serveSignalling(node.server, connect, { connectsPerMinute: config.SFU_CONNECTS_PER_MINUTE, outcome });
    serveSignalling(http.server, connect, { connectsPerMinute: 0, outcome });
    if (config.REDIS_URL) {
      try {
        node.fleet = await Fleet.start(config, node);
      } catch (err) {
        await node.close();
        throw err;
      }
    }
    logger.info({ nodeId: config.SFU_NODE_ID, url: node.url, controlUrl: node.controlUrl, metrics: node.metricsAddress, workers: config.SFU_WORKERS, fleet: Boolean(node.fleet) }, 'media node ready');
    return node;
  }

  /** The public listener's bound address (the port may have been 0): browsers' WebSocket. */
  get url(): string {
    return `http://${this.config.SFU_HOST}:${(this.server.address() as AddressInfo | null)?.port ?? this.config.SFU_PORT}`;
  }

  /** The protoo WebSocket URL browsers open (SFU_PUBLIC_WS_URL, or this server's own address). */
  get publicWsUrl(): string {
    return this.config.SFU_PUBLIC_WS_URL ?? this.url.replace(/^http/, 'ws');
  }

  /** The internal listener's bound address: /health, /control, and the recorder's WebSocket. */
  get internalUrl(): string {
    return `http://${this.config.SFU_CONTROL_HOST}:${(this.http.server.address() as AddressInfo | null)?.port ?? this.config.SFU_CONTROL_PORT}`;
  }

  /** host:port of the Prometheus endpoint (`GET /metrics`), as bound (empty until start() has bound it). */
  get metricsAddress(): string {
    return this.#metricsEndpoint?.address ?? '';
  }

  /** Whether the node drains (fleet only): it takes no new viewers. */
  get draining(): boolean {
    return this.fleet?.draining ?? false;
  }

  /** The pipe transports to other nodes (the fleet's), for the metrics. */
  pipeTransports(): types.PipeTransport[] {
    return this.fleet?.pipeTransports() ?? [];
  }

  /** Where the control plane sends /control commands (SFU_CONTROL_URL, or the internal listener). */
  get controlUrl(): string {
    return this.config.SFU_CONTROL_URL ?? this.internalUrl;
  }

  /**
   * The control plane ended this live: its room closes (every peer told 'ended') and it is not
   * made again here, nor (in a fleet) on any node, while a token minted before the end lives.
   */
  async endSession(sid: string): Promise<void> {
    this.#ended.add(sid);
    this.#opened.emit('ended', sid);
    this.rooms.get(sid)?.close('ended');
    await this.fleet?.sessionEnded(sid);
  }

  /** Whether the live of `sid` has ended (here, or as the fleet's registry says). */
  async hasEnded(sid: string): Promise<boolean> {
    if (this.#ended.has(sid)) return true;
    if (!(await this.fleet?.hasEnded(sid))) return false;
    this.#ended.add(sid);
    return true;
  }

  async health() {
    const workers = await this.pool.loads();
    return healthReport('sfu', pkg.version, {
      nodeId: this.config.SFU_NODE_ID,
      rooms: this.rooms.size,
      peers: [...this.rooms.values()].reduce((n, room) => n + room.peers.size, 0),
      workers,
      draining: this.draining,
      metrics: this.metricsAddress,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#opened.emit('close');
    this.#sampler.close();
    for (const room of [...this.rooms.values()]) room.close('node_shutdown');
    // The fleet stops announcing the metrics endpoint, then leaves the registry.
    await this.fleet?.close();
    await Promise.all([
      this.http.close(),
      this.#metricsEndpoint?.close(),
      new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        this.server.closeAllConnections();
      }),
    ]);
    this.pool.close();
    logger.info('media node closed');
  }

  async #connect(
    requestUrl: string,
    accept: () => protoo.WebSocketTransport,
    reject: (code: number, reason: string) => void,
    attempt: ConnectAttempt,
  ): Promise<void> {
    let token: string | null;
    try {
      token = new URL(requestUrl, 'http://node').searchParams.get(MEDIA_TOKEN_PARAM);
    } catch {
      return reject(mediaErrorCodes.badRequest, 'malformed request URL');
    }
    if (!token) return reject(401, 'missing token');
    let claims: MediaClaims;
    try {
      claims = await verifyMediaToken(this.config.MEDIA_TOKEN_PUBLIC_KEY, token, this.config.SFU_NODE_ID);
    } catch (err) {
      if (err instanceof MediaTokenError) return reject(err.reason === 'wrong_node' ? 403 : 401, err.message);
      throw err;
    }
    attempt.role = claims.role;
    if (this.#closed) return reject(503, 'node shutting down');
    // A guest grant is redeemed on an open connection (upgradeToGuest), where it is checked; it never opens one.
    if (claims.role === 'guest') return reject(403, 'a guest grant is redeemed with upgradeToGuest, not used to connect');
    if (await this.hasEnded(claims.sid)) return reject(mediaErrorCodes.gone, 'this live has ended');
    // The recorder records a live that is on this node; it never opens one (the live may have ended).
    // It is told as the live starts, a moment before the host connects: it waits for the room, so
    // it is there before the host's first frame.
    if (claims.role === 'recorder' && !(await this.#roomOpens(claims.sid, this.config.SFU_RECORDER_WAIT_MS))) {
      return this.#ended.has(claims.sid) ? reject(mediaErrorCodes.gone, 'this live has ended') : reject(404, 'no such live on this node');
    }
    if (this.#closed) return reject(503, 'node shutting down');
    const room = await this.room(claims.sid);
    // Ended while the room was being made: endSession found no room to close.
    if (this.#ended.has(claims.sid)) {
      room.close('ended');
      return reject(mediaErrorCodes.gone, 'this live has ended');
    }
    room.join(claims, accept());
  }

  /** Recorder connections waiting here for their live's room to open. */
  get waitingRecorders(): number {
    return this.#opened.listenerCount('room');
  }

  /**
   * Whether the room of `sid` is open here, or opens within `ms`; false at once when the live
   * ends or the node closes meanwhile. One listener per waiting recorder, off when it resolves.
   */
  #roomOpens(sid: string, ms: number): Promise<boolean> {
    if (this.rooms.get(sid)) return Promise.resolve(true);
    if (this.#closed || this.#ended.has(sid) || ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (open: boolean) => {
        clearTimeout(timer);
        this.#opened.off('room', onRoom).off('ended', onEnded).off('close', onClose);
        resolve(open);
      };
      const onRoom = (opened: string) => {
        if (opened === sid) done(true);
      };
      const onEnded = (ended: string) => {
        if (ended === sid) done(false);
      };
      const onClose = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      this.#opened.on('room', onRoom).on('ended', onEnded).on('close', onClose);
    });
  }

  /** The room of a session on this node, created (and, in a fleet, attached) when absent. */
  room(roomId: string): Promise<Room> {
    const existing = this.rooms.get(roomId);
    if (existing && !existing.closed) return Promise.resolve(existing);
    if (this.#ended.has(roomId)) return Promise.reject(new Error(`the live of session ${roomId} has ended`));
    let pending = this.#creating.get(roomId);
    if (!pending) {
      const options = {
        grants: this.#grants,
        creations: this.#creations,
        keyFrameRequestDelay: this.config.SFU_KEYFRAME_DELAY_MS,
        plainListenIp: this.config.SFU_PIPE_IP ?? this.config.RTC_LISTEN_IP,
        keyFrameRequests: this.metrics.keyFrameRequests,
      };
      pending = Room.create(roomId, this.pool, options).then((room) => {
        this.rooms.set(roomId, room);
        this.#opened.emit('room', roomId);
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
