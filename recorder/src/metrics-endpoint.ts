import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createLogger } from '@podlive/shared/logger';
import { exposeMetrics as serveAndAnnounce } from '@podlive/shared/metrics';
import type { RecorderConfig } from './config';

const logger = createLogger('recorder').child({ module: 'metrics' });

export interface MetricsListener {
  /** host:port Prometheus scrapes `/metrics` at. */
  readonly address: string;
  /** Stops the announce (its target removed from Redis) and the listener. */
  close(): Promise<void>;
}

/**
 * Serves `registry` at METRICS_HOST:METRICS_PORT/metrics (see shared/src/metrics.ts; bearer
 * METRICS_TOKEN when set) and, with Redis, announces it for discovery as job `recorder`, instance
 * RECORDER_ID, on a connection of its own (the finishing queue's blocks on Redis).
 */
export async function exposeMetrics(registry: Registry, config: RecorderConfig): Promise<MetricsListener> {
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 }) : undefined;
  // Connection errors come again at each reconnection: the failed announces say it once a beat.
  redis?.on('error', (err: Error) => logger.debug({ err: err.message }, 'metrics announce connection'));
  const onError = (err: unknown) => logger.warn({ err: (err as Error).message }, 'cannot announce the metrics endpoint');
  let endpoint;
  try {
    endpoint = await serveAndAnnounce(registry, config, redis && { redis, prefix: config.REDIS_PREFIX, job: 'recorder', instance: config.RECORDER_ID, onError });
  } catch (err) {
    redis?.disconnect();
    throw err;
  }
  logger.info({ address: endpoint.address, recorderId: config.RECORDER_ID, token: config.METRICS_TOKEN !== undefined }, 'metrics served at /metrics');
  const served = endpoint;
  return {
    address: served.address,
    async close() {
      await served.close();
      redis?.disconnect();
    },
  };
}
