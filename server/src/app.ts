import { createLogger, type Logger } from '@podlive/shared/logger';
import { createStorage, LocalStorage, S3Storage, type Storage } from '@podlive/storage';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBus, type Bus } from './bus';
import type { Config } from './config';
import type { DatabaseHandle } from './db';
import { createMailer, type Mailer } from './mail';
import cookie from '@fastify/cookie';
import authRoutes from './features/auth/routes';
import chatRoutes from './features/chat/routes';
import liveRoutes from './features/live/routes';
import { FleetPlacement } from './features/live/fleet/placement';
import { type Placement, SingleNodePlacement } from './features/live/placement';
import internalRecordingRoutes from './features/recordings/internal-routes';
import { liveRecording } from './features/recordings/live-hooks';
import { recordingMediaAccess } from './features/recordings/queries';
import recordingRoutes from './features/recordings/routes';
import { createRecordings } from './features/recordings/service';
import social from './features/social/plugin';
import { endStage } from './features/stage/guests';
import internalStageRoutes from './features/stage/internal-routes';
import stageRoutes from './features/stage/routes';
import { createStage } from './features/stage/service';
import mediaRoutes from './media/routes';
import userRoutes from './features/users/routes';
import apiSecurity from './plugins/api-security';
import auth from './plugins/auth';
import redis from './plugins/redis';
import database from './plugins/database';
import errorHandler from './plugins/error-handler';
import metrics from './plugins/metrics';
import rateLimit from './plugins/rate-limit';
import services from './plugins/services';
import webProxy from './plugins/web-proxy';
import healthRoutes, { type HealthCheck } from './routes/health';
import storageRoutes from './routes/storage';
import ws from './ws/plugin';

/** What build() can be given instead of making it; what it is given, its caller closes. */
export interface AppDeps {
  logger: Logger;
  bus: Bus;
  storage: Storage;
  mailer: Mailer;
  /** The database; main.ts opens it (PostgreSQL or PGlite) and closes it after the app. */
  db: DatabaseHandle;
  /** Where lives run; by default FleetPlacement or SingleNodePlacement, as SFU_PLACEMENT says. */
  placement: Placement;
}

/** SFU_PLACEMENT=fleet: the nodes registered in Redis (REDIS_URL, REDIS_PREFIX); else the one of SFU_URL. */
function createPlacement(config: Config, logger: Logger): Placement {
  if (config.sfuPlacement === 'single' || config.redisUrl === undefined) return new SingleNodePlacement(config);
  return new FleetPlacement({ url: config.redisUrl, prefix: config.redisPrefix, edgeLimit: config.sfuEdgeLimit, logger });
}

/** Path prefixes served here; everything else goes to the web app (WEB_URL). */
export const OWN_PREFIXES = ['/api', '/ws', '/health', '/internal'] as const;

/**
 * The control plane as a Fastify instance, not listening: `app.inject()` in tests, `app.listen()`
 * in main.ts. Services not passed in `deps` are made from `config` and closed with the app.
 */
export function build(config: Config, deps: Partial<AppDeps> = {}): FastifyInstance {
  const logger = deps.logger ?? createLogger('server');
  const owned: Array<() => Promise<void> | void> = [];
  const bus = deps.bus ?? createBus(config, logger);
  if (deps.bus === undefined) owned.push(() => bus.close());
  const storage = deps.storage ?? createStorage(config.storage);
  if (deps.storage === undefined && storage instanceof S3Storage) owned.push(() => storage.close());
  const mailer = deps.mailer ?? createMailer(config, logger);
  if (deps.mailer === undefined) owned.push(() => mailer.close());
  const placement = deps.placement ?? createPlacement(config, logger);
  if (deps.placement === undefined && placement instanceof FleetPlacement) owned.push(() => placement.close());

  // Typed with Fastify's base logger so plugins see the ordinary FastifyInstance.
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: logger,
    bodyLimit: 1024 * 1024,
    // The web app's server calls /api from this machine on behalf of browsers and names the
    // browser in X-Forwarded-For: trusted from loopback only, so per-IP rate limits see the browser.
    trustProxy: 'loopback',
  });
  app.addHook('onClose', async () => {
    for (const close of owned.reverse()) {
      try {
        await close();
      } catch (err) {
        app.log.error({ err }, 'closing a service failed');
      }
    }
  });

  // Recordings need the database: a build() without one (some tests) neither records nor serves them.
  const recordings = deps.db === undefined ? undefined : createRecordings({ config, db: deps.db.db, storage, bus, log: app.log });
  if (recordings !== undefined) app.addHook('onClose', () => recordings.recorder.close());

  app.register(errorHandler);
  app.register(services, { config, bus, storage, mailer });
  app.register(metrics, { db: deps.db });
  // Cookie parsing and setting (the refresh-token cookie; see features/auth/cookie.ts).
  app.register(cookie);
  app.register(redis);
  app.register(auth);
  // /ws and the live state behind it (events publisher, viewer counts).
  app.register(ws, { db: deps.db?.db });

  const checks: Record<string, HealthCheck> = { bus: () => bus.ping() };
  if (deps.db !== undefined) checks.database = deps.db.ping.bind(deps.db);
  app.register(healthRoutes, { checks });

  app.register(
    async (api) => {
      await api.register(apiSecurity);
      if (storage instanceof LocalStorage) await api.register(storageRoutes, { storage });
      await api.register(mediaRoutes, { prefix: '/media', ...(deps.db === undefined ? {} : { recordingIsPublic: recordingMediaAccess(deps.db.db) }) });
      // The account features need the database; a build() without one (some tests) serves the rest.
      if (deps.db !== undefined && recordings !== undefined) {
        await api.register(database, { db: deps.db.db });
        await api.register(rateLimit);
        await api.register(authRoutes, { prefix: '/auth' });
        await api.register(social, { recorded: recordings.recorder.enabled });
        await api.register(userRoutes, { prefix: '/users' });
        const stage = createStage(api, placement);
        await api.register(stageRoutes, { prefix: '/stage', stage });
        await api.register(liveRoutes, { prefix: '/live', placement, onEnded: (id) => endStage(stage, id), recording: liveRecording(recordings) });
        await api.register(chatRoutes, { prefix: '/live' });
        await api.register(recordingRoutes, { recordings });
      }
    },
    { prefix: '/api' },
  );
  if (recordings !== undefined) {
    app.register(internalRecordingRoutes, { prefix: '/internal', recordings, publicKey: config.secrets.mediaTokenPublic });
  }
  if (deps.db !== undefined) {
    app.register(internalStageRoutes, { prefix: '/internal', db: deps.db.db, publicKey: config.secrets.mediaTokenPublic });
  }

  // A presigned URL tells where storage serves objects from (an S3 endpoint, or this server).
  const mediaOrigins = async () => [new URL(await storage.signedUrl('csp/origin', 60)).origin];
  app.register(webProxy, { upstream: config.webUrl, reserved: OWN_PREFIXES, mediaOrigins });
  return app;
}
