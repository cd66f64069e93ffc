import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * One Redis command connection for small shared state (login throttling, the session
     * deny-list) when REDIS_URL is set; null on a single replica, where that state is in memory.
     */
    redis: Redis | null;
  }
}

async function redisPlugin(app: FastifyInstance) {
  const url = app.config.redisUrl;
  const redis = url === undefined ? null : new Redis(url, { maxRetriesPerRequest: 2, connectionName: 'podlive-state' });
  redis?.on('error', (err: Error) => app.log.warn({ err }, 'redis connection error'));
  app.decorate('redis', redis);
  app.addHook('onClose', async () => {
    await redis?.quit().catch(() => redis.disconnect());
  });
}

export default fp(redisPlugin, { name: 'redis', fastify: '5.x', dependencies: ['services'] });
