import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { sampleTrend } from './discover';
import { Notifier } from './notifier';
import socialRoutes from './routes';
import { type TrendOptions, ViewerTrend } from './trend';
import { WebPush } from './web-push';

declare module 'fastify' {
  interface FastifyInstance {
    /** Tells followers a host went live: stored notification, /ws event, Web Push (features/social). */
    notifier: Notifier;
  }
}

export interface SocialOptions {
  /** Lives are recorded (RECORDER_URL): discover shows their live HLS URLs. */
  recorded: boolean;
  trend?: TrendOptions;
}

/**
 * Follows' notifications, Web Push, blocks, reports and discovery. Registered inside /api after
 * the database and rate limits, before the live routes (they hand Go Live to `notifier`).
 */
async function socialPlugin(app: FastifyInstance, options: SocialOptions) {
  const push = new WebPush({ db: app.db, vapid: app.config.push, log: app.log });
  const notifier = new Notifier({ db: app.db, events: app.liveEvents, push, log: app.log });
  const trend = new ViewerTrend(options.trend);
  const discover = { db: app.db, counts: app.viewerCounts, trend, recorded: options.recorded };
  const sampler = setInterval(() => void sampleTrend(discover).catch((err: unknown) => app.log.warn({ err }, 'sampling viewer counts failed')), trend.sampleEveryMs);
  sampler.unref();
  app.decorate('notifier', notifier);
  app.addHook('onClose', async () => {
    clearInterval(sampler);
    await notifier.idle();
  });
  await app.register(socialRoutes, { push, discover });
}

export default fp(socialPlugin, { name: 'social', fastify: '5.x', dependencies: ['database', 'rate-limit', 'ws'] });
