import websocket from '@fastify/websocket';
import { type Db, eq, liveSessions, sql } from '@podlive/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { randomUUID } from 'node:crypto';
import { RedisBus } from '../bus';
import { ApiError } from '../errors';
import { createConnectionChat } from '../features/chat/socket';
import { type CountStore, MemoryCountStore, RedisCountStore } from './count-store';
import { WsConnection, type Socket } from './connection';
import { LiveEvents, sessionChannel } from './events';
import { WsHub } from './hub';
import { callerFromUpgrade } from './upgrade-auth';
import { ViewerCounts } from './viewer-counts';

/** Largest client frame accepted; a bigger one closes the connection (1009). */
export const WS_MAX_PAYLOAD = 4096;

declare module 'fastify' {
  interface FastifyInstance {
    /** The one way to publish /ws events (bus-backed, every replica delivers). */
    liveEvents: LiveEvents;
    /** Viewer counts of lives (totals across replicas). */
    viewerCounts: ViewerCounts;
  }
}

export interface WsPluginOptions {
  db?: Db | undefined;
  /** Throttle interval of viewer counts (default VIEWER_COUNT_INTERVAL_MS). */
  viewerCountIntervalMs?: number;
}

/**
 * `/ws`, the app WebSocket, and the live state behind it: the event publisher, this replica's hub,
 * the viewer counts (Redis hash per session when REDIS_URL is set, in memory otherwise).
 */
async function wsPlugin(app: FastifyInstance, options: WsPluginOptions) {
  const { db } = options;
  const prefix = app.bus instanceof RedisBus ? app.bus.prefix : app.config.redisPrefix;
  const store: CountStore = app.config.redisUrl === undefined ? new MemoryCountStore() : new RedisCountStore(app.config.redisUrl, prefix);
  const events = new LiveEvents(app.bus);
  const peaks = new Map<string, number>();
  // eslint-disable-next-line prefer-const -- hub and counts refer to each other
  let counts: ViewerCounts;
  const hub = new WsHub({
    bus: app.bus,
    logger: app.log,
    onCountChanged: (id) => counts.changed(id),
    // Every replica stops counting an ended live's watchers (its connections may stay subscribed).
    onSessionEnded: (id) => void counts.ended(id).catch((err: unknown) => app.log.warn({ err, sessionId: id }, 'dropping viewer counts failed')),
    onSessionIdle: (id) => {
      counts.forget(id);
      peaks.delete(id);
    },
  });
  counts = new ViewerCounts({
    store,
    events,
    replicaId: randomUUID(),
    logger: app.log,
    ...(options.viewerCountIntervalMs === undefined ? {} : { intervalMs: options.viewerCountIntervalMs }),
    deliver: (id, event) => hub.deliver(sessionChannel(id), event),
    // The peak is written only when this replica sees it exceeded: at most once per push.
    onTotal: async (id, total) => {
      if (db === undefined || total <= (peaks.get(id) ?? 0)) return;
      peaks.set(id, total);
      await db
        .update(liveSessions)
        .set({ peakViewers: sql`greatest(${liveSessions.peakViewers}, ${total})` })
        .where(sql`${liveSessions.id} = ${id} and ${liveSessions.status} = 'live' and ${liveSessions.peakViewers} < ${total}`);
    },
  });
  app.decorate('liveEvents', events);
  app.decorate('viewerCounts', counts);
  // chat_send on /ws (and the blocks that filter chat) need the database.
  const chat = db === undefined ? undefined : createConnectionChat({ db, events, redisUrl: app.config.redisUrl, prefix, metrics: app.metrics });
  app.addHook('onClose', async () => {
    counts.close();
    await store.close();
    await chat?.close();
  });

  const statusOf =
    db === undefined
      ? undefined
      : async (id: string) => {
          const [row] = await db.select({ status: liveSessions.status }).from(liveSessions).where(eq(liveSessions.id, id));
          return row?.status ?? null;
        };

  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD } });
  app.route({
    method: 'GET',
    url: '/ws',
    preValidation: async (request: FastifyRequest) => callerFromUpgrade(request, app.config, app.accessTokens, app.endedSessions),
    // A plain GET (no upgrade) is a coded error, never the web app.
    handler: async () => {
      throw new ApiError('UPGRADE_REQUIRED');
    },
    wsHandler: (socket, request) => {
      new WsConnection(socket as unknown as Socket, {
        hub,
        counts,
        userId: request.caller?.id ?? null,
        authSessionId: request.caller?.sessionId ?? null,
        viewer: request.caller === null ? `address:${request.ip}` : `user:${request.caller.id}`,
        ...(statusOf === undefined ? {} : { statusOf }),
        logger: request.log,
        chat,
        delivered: (event) => app.metrics.delivered(event),
      });
    },
  });
}

export default fp(wsPlugin, { name: 'ws', fastify: '5.x', dependencies: ['services', 'auth', 'metrics'] });
