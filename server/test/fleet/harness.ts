import type { TestDb } from '@podlive/db/testing';
import type { FastifyInstance } from 'fastify';
import { build } from '../../src/app';
import { InProcessBus } from '../../src/bus';
import type { Config } from '../../src/config';
import { databaseHandle } from '../../src/db';
import { generousLimits, localFiles } from '../accounts/harness';
import { captureLogger, testConfig } from '../helpers';
import { KEYS } from '../live/harness';
import { randomPrefix, REDIS_URL } from './registry';

export { KEYS };

export interface FleetApp {
  app: FastifyInstance;
  config: Config;
  /** REDIS_PREFIX of this app (its own fleet). */
  prefix: string;
  close(): Promise<void>;
}

/**
 * The app as a fleet deployment configures it (REDIS_URL, no SFU_URL: FleetPlacement, built by the
 * app itself) on `testDb`, with its own REDIS_PREFIX so each test has a fleet of its own.
 */
export async function fleetApp(testDb: TestDb, env: Record<string, string> = {}): Promise<FleetApp> {
  const prefix = randomPrefix();
  const base = await testConfig({ REDIS_URL, REDIS_PREFIX: prefix, MEDIA_TOKEN_PRIVATE_KEY: KEYS.privatePem, ...env });
  const config: Config = { ...base, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 }, rateLimits: generousLimits };
  const { logger } = captureLogger();
  const bus = new InProcessBus({ logger });
  const app = build(config, { logger, bus, db: databaseHandle(testDb), ...(await localFiles(config, logger)) });
  await app.ready();
  return {
    app,
    config,
    prefix,
    async close() {
      await app.close();
      await bus.close();
    },
  };
}
