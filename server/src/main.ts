import { hostname } from 'node:os';
import { createLogger } from '@podlive/shared/logger';
import { exposeMetrics } from '@podlive/shared/metrics';
import { build } from './app';
import { createBus, type Bus } from './bus';
import { loadConfig } from './config';
import { openDatabase, type DatabaseHandle } from './db';

const logger = createLogger('server');
/** What a failed start-up must release before exiting. */
const started: { bus?: Bus; db?: DatabaseHandle } = {};

/** Runs one named start-up step; a failure is logged with the step's name and ends start-up. */
async function step<T>(name: string, run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    logger.fatal({ err, step: name }, `start-up failed at "${name}"`);
    await started.bus?.close().catch(() => undefined);
    await started.db?.close().catch(() => undefined);
    process.exit(1);
  }
}

const config = await step('load config', () => loadConfig());
const bus = await step('connect bus', async () => {
  started.bus = createBus(config, logger);
  await started.bus.ping();
  return started.bus;
});
const db = await step('open and migrate database', async () => {
  started.db = await openDatabase(config);
  await started.db.ping();
  return started.db;
});
const app = await step('build app', () => build(config, { logger, bus, db }));
await step('ready plugins', () => app.ready());
const address = await step('listen', () => app.listen({ host: config.host, port: config.port }));
// This replica, as Prometheus names it: the machine and the public port (replicas of one machine differ by port).
const instance = `${hostname().replace(/[^\w.-]/g, '_')}:${config.port}`;
const announce = app.redis === null ? undefined : { redis: app.redis, prefix: config.redisPrefix, job: 'server' as const, instance, onError: (err: unknown) => logger.warn({ err }, 'announcing the metrics target failed') };
const metrics = await step('serve metrics', () => exposeMetrics(app.metrics.registry, config.metrics, announce));
logger.info({ address, metrics: metrics.address, publicUrl: config.publicUrl, database: config.databaseUrl ? 'postgres' : 'pglite', storage: config.storage.kind, mail: config.mail.kind, bus: bus.kind }, 'server ready');

let stopping = false;
async function stop(signal: NodeJS.Signals) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  try {
    await metrics.close();
    await app.close();
    await bus.close();
    await db.close();
    logger.info('stopped');
    process.exit(0);
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
