import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { createLogger } from '@podlive/shared/logger';
import { announceMetrics, serveMetrics } from '@podlive/shared/metrics';
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
  const endpoint = await serveMetrics(registry, config);
  logger.info({ address: endpoint.address, recorderId: config.RECORDER_ID, token: config.METRICS_TOKEN !== undefined }, 'metrics served at /metrics');
  if (!config.REDIS_URL) return { address: endpoint.address, close: () => endpoint.close() };
  const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 2 });
  // Connection errors come again at each reconnection: the failed announces say it once a beat.
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'metrics announce connection'));
  const stop = announceMetrics(redis, config.REDIS_PREFIX, { job: 'recorder', instance: config.RECORDER_ID, address: endpoint.address }, (err) => {
    logger.warn({ err: (err as Error).message }, 'cannot announce the metrics endpoint');
  });
  return {
    address: endpoint.address,
    async close() {
      await stop();
      redis.disconnect();
      await endpoint.close();
    },
  };
}
