import type { FastifyInstance } from 'fastify';
import { RedisBus } from '../../bus';
import type { Placement } from '../live/placement';
import type { StageContext } from './context';
import { InviteExpiry } from './expiry';
import { rebuildStageList } from './guests';
import { type GuestStore, MemoryGuestStore, RedisGuestStore } from './store';

/**
 * The stage of every live on this replica: the stage list (Redis hash per session with REDIS_URL,
 * in-process otherwise), rebuilt from Postgres when the app is ready, and the invite expiry
 * (sweeper + timers), started then and stopped when the app closes. `app` needs the database.
 */
export function createStage(app: FastifyInstance, placement: Placement): StageContext {
  const { config } = app;
  const prefix = app.bus instanceof RedisBus ? app.bus.prefix : app.config.redisPrefix;
  const guests: GuestStore = config.redisUrl === undefined ? new MemoryGuestStore() : new RedisGuestStore(config.redisUrl, prefix);
  const expiry = new InviteExpiry({ db: app.db, events: app.liveEvents, log: app.log, onExpired: (n) => app.metrics.invites.inc({ outcome: 'expired' }, n) });
  const ctx: StageContext = {
    db: app.db,
    placement,
    events: app.liveEvents,
    guests,
    expiry,
    mediaKey: config.secrets.mediaToken,
    turn: config.turn,
    maxGuests: config.stage.maxGuests,
    inviteTtlMs: config.stage.inviteTtlMs,
    log: app.log,
    metrics: app.metrics,
  };
  app.addHook('onReady', async () => {
    // Never fatal: the server serves the rest while the stage's tables are unreachable.
    try {
      const count = await rebuildStageList(ctx);
      if (count > 0) app.log.info({ guests: count }, 'stage list rebuilt');
    } catch (err) {
      app.log.error({ err }, 'rebuilding the stage list failed');
    }
    expiry.start();
  });
  app.addHook('onClose', async () => {
    expiry.stop();
    await guests.close();
  });
  return ctx;
}
