import { createTestDb, type TestDb } from '@podlive/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/app';
import { RedisBus } from '../../src/bus';
import { databaseHandle } from '../../src/db';
import { generousLimits, localFiles, signUp, unique } from '../accounts/harness';
import { captureLogger, testConfig } from '../helpers';
import { createLive, openWs, startLive, type WsClient } from './harness';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `podlive-test-${unique()}:`;
let testDb: TestDb;
const replicas: Array<{ app: FastifyInstance; bus: RedisBus }> = [];
const clients: WsClient[] = [];

/** One server replica on the shared database and the real Redis (same prefix as the others). */
async function replica(): Promise<FastifyInstance> {
  const config = { ...(await testConfig({ REDIS_URL, SFU_URL: 'http://127.0.0.1:9' })), rateLimits: generousLimits };
  const { logger } = captureLogger();
  const bus = new RedisBus({ url: REDIS_URL, prefix, logger });
  const app = build(config, { logger, bus, db: databaseHandle(testDb), ...(await localFiles(config, logger)) });
  await app.ready();
  replicas.push({ app, bus });
  return app;
}

beforeAll(async () => {
  testDb = await createTestDb('postgres');
});
afterAll(async () => {
  for (const client of clients) client.close();
  for (const { app, bus } of replicas) {
    await app.close();
    await bus.close();
  }
  await testDb.close();
});

describe('two replicas sharing Redis', () => {
  it('sum their viewers, push the total to subscribers on either, and decrement when sockets close', async () => {
    const a = await replica();
    const b = await replica();
    const host = await signUp(a);
    const id = await createLive(a, host);
    await startLive(a, host, id);
    const open = async (app: FastifyInstance) => {
      const client = await openWs(app);
      clients.push(client);
      return client;
    };
    const onA = await open(a);
    const onB = await open(b);
    await onA.subscribe(id);
    await onB.subscribe(id);
    const watchersA = await Promise.all([open(a), open(a)]);
    const watchersB = await Promise.all([open(b), open(b), open(b)]);
    for (const w of [...watchersA, ...watchersB]) await w.subscribe(id, true);

    await onA.next((e) => e.type === 'viewer_count' && e.viewers === 5);
    await onB.next((e) => e.type === 'viewer_count' && e.viewers === 5);
    expect((await a.inject({ method: 'GET', url: `/api/live/${id}` })).json().viewers).toBe(5);
    expect((await b.inject({ method: 'GET', url: '/api/live/active' })).json().items.find((s: { id: string }) => s.id === id)?.viewers).toBe(5);

    const from = onA.events.length;
    for (const w of watchersB) w.close();
    await onA.next((e) => e.type === 'viewer_count' && e.viewers === 2, from);
    expect((await b.inject({ method: 'GET', url: `/api/live/${id}/stats` })).json()).toMatchObject({ viewers: 2, peakViewers: 5 });
  });
});
