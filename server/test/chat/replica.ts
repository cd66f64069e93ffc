import { testKeyPair } from '@podlive/shared/testing/keys';
import type { TestDb } from '@podlive/db/testing';
import type { FastifyInstance } from 'fastify';
import { build } from '../../src/app';
import { RedisBus } from '../../src/bus';
import { databaseHandle } from '../../src/db';
import { generousLimits, localFiles, unique } from '../accounts/harness';
import { captureLogger, testConfig } from '../helpers';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Server replicas on one database and the real Redis, under a prefix of their own (bus channels,
 * viewer counts and chat limits), as a fleet would run them.
 */
export class Fleet {
  readonly prefix = `podlive-test-${unique()}:`;
  /** One set of secrets: a token signed by one replica is good on the others. */
  readonly #secrets = {
    ...Object.fromEntries(['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET'].map((name) => [name, `${name}-${unique()}`.padEnd(48, 'x')])),
    MEDIA_TOKEN_PRIVATE_KEY: testKeyPair().privatePem,
  };
  readonly #replicas: Array<{ app: FastifyInstance; bus: RedisBus }> = [];

  constructor(private readonly testDb: TestDb) {}

  async replica(): Promise<FastifyInstance> {
    const env = { REDIS_URL, REDIS_PREFIX: this.prefix, SFU_URL: 'http://127.0.0.1:9', ...this.#secrets };
    const config = { ...(await testConfig(env)), rateLimits: generousLimits, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };
    const { logger } = captureLogger();
    const bus = new RedisBus({ url: REDIS_URL, prefix: this.prefix, logger });
    const app = build(config, { logger, bus, db: databaseHandle(this.testDb), ...(await localFiles(config, logger)) });
    await app.ready();
    this.#replicas.push({ app, bus });
    return app;
  }

  async close(): Promise<void> {
    for (const { app, bus } of this.#replicas.splice(0)) {
      await app.close();
      await bus.close();
    }
  }
}
