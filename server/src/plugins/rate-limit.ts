import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { RateLimitName } from '../config';
import { ApiError } from '../errors';

/** A preHandler counting this request against one limit, keyed by `key(request)` (null: not counted). */
export type Limiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

declare module 'fastify' {
  interface FastifyInstance {
    /** Makes a limiter for the rule `name` of config.rateLimits. */
    limiter: (name: RateLimitName, key: (request: FastifyRequest) => string | null) => Limiter;
    /** Like limiter, for what is skipped rather than refused past the limit: whether this request is within it. */
    allowance: (name: RateLimitName, key: (request: FastifyRequest) => string) => (request: FastifyRequest) => Promise<boolean>;
  }
}

/**
 * Rate limits with @fastify/rate-limit's stores: Redis when REDIS_URL is set (so every replica
 * counts together), in memory otherwise. Routes add limiters as preHandlers, several per route
 * (login counts per IP and per account), so the plugin's one-limit-per-request hook is not used;
 * `createRateLimit` gives the counts and the limiter answers 429 RATE_LIMITED with Retry-After.
 */
async function rateLimitPlugin(app: FastifyInstance) {
  const { rateLimits, redisUrl } = app.config;
  let redis: Redis | undefined;
  if (redisUrl !== undefined) {
    redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
    app.addHook('onClose', async () => {
      await redis?.quit().catch(() => redis?.disconnect());
    });
  }
  await app.register(rateLimit, {
    global: false,
    // Under REDIS_PREFIX like every other key: deployments (and test runs) sharing a Redis stay apart.
    ...(redis === undefined ? {} : { redis, nameSpace: `${app.config.redisPrefix}${rateLimits.namespace}` }),
  });

  const counter = (name: RateLimitName, key: (request: FastifyRequest) => string | null) => {
    const rule = rateLimits.rules[name];
    return app.createRateLimit({ max: rule.max, timeWindow: rule.windowSec * 1000, keyGenerator: (request) => `${name}:${key(request) ?? ''}` });
  };

  app.decorate('allowance', (name: RateLimitName, key: (request: FastifyRequest) => string) => {
    const check = counter(name, key);
    return async (request: FastifyRequest) => {
      const result = await check(request);
      return result.isAllowed || !result.isExceeded;
    };
  });

  app.decorate('limiter', (name: RateLimitName, key: (request: FastifyRequest) => string | null): Limiter => {
    const check = counter(name, key);
    return async (request, reply) => {
      if (key(request) === null) return;
      const result = await check(request);
      if (result.isAllowed || !result.isExceeded) return;
      app.metrics.rateLimited.inc({ limit: name });
      const retryAfter = Math.max(1, result.ttlInSeconds);
      reply.header('retry-after', retryAfter);
      throw new ApiError('RATE_LIMITED', { message: `Too many attempts, try again in ${retryAfter} s` });
    };
  });
}

export default fp(rateLimitPlugin, { name: 'rate-limit', fastify: '5.x', dependencies: ['services', 'metrics'] });
