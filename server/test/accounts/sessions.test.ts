import { createTestDb, type TestDb } from '@podlive/db/testing';
import { WS_CLOSE_SESSION_ENDED } from '@podlive/shared/ws';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/app';
import { RedisBus } from '../../src/bus';
import { databaseHandle } from '../../src/db';
import { captureLogger, testConfig } from '../helpers';
import { openWs, type WsClient } from '../live/harness';
import { bearer, type CapturingMailer, generousLimits, localFiles, PASSWORD, post, signUp, unique, type Account } from './harness';

const REDIS_URL = 'redis://127.0.0.1:6379';
const prefix = `podlive-test-${unique()}:`;
let testDb: TestDb;
const replicas: Array<{ app: FastifyInstance; bus: RedisBus; mailer: CapturingMailer }> = [];
const clients: WsClient[] = [];

/** One server replica on the shared database and the real Redis: logout on one must reach the other. */
async function replica(): Promise<{ app: FastifyInstance; mailer: CapturingMailer }> {
  // Replicas share their signing keys, as a fleet does.
  const base = await testConfig({ REDIS_URL, REDIS_PREFIX: prefix, JWT_ACCESS_SECRET: 'a'.repeat(40), JWT_REFRESH_SECRET: 'r'.repeat(40) });
  const config = { ...base, rateLimits: generousLimits, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 } };
  const { logger } = captureLogger();
  const bus = new RedisBus({ url: REDIS_URL, prefix, logger });
  const files = await localFiles(config, logger);
  const app = build(config, { logger, bus, db: databaseHandle(testDb), ...files });
  await app.ready();
  replicas.push({ app, bus, mailer: files.mailer });
  return { app, mailer: files.mailer };
}

let a: { app: FastifyInstance; mailer: CapturingMailer };
let b: { app: FastifyInstance; mailer: CapturingMailer };
beforeAll(async () => {
  testDb = await createTestDb('postgres');
  a = await replica();
  b = await replica();
});
afterAll(async () => {
  for (const client of clients) client.close();
  for (const { app, bus } of replicas) {
    await app.close();
    await bus.close();
  }
  await testDb.close();
});

const me = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(token) });
async function ws(app: FastifyInstance, token: string): Promise<WsClient> {
  const client = await openWs(app, bearer(token));
  clients.push(client);
  return client;
}
/** A second sign-in of the same account (another device). */
async function signInAgain(app: FastifyInstance, account: Account): Promise<{ accessToken: string; refreshToken: string }> {
  const login = await post(app, '/api/auth/login', { email: account.email, password: account.password });
  expect(login.statusCode).toBe(200);
  return login.json();
}

describe('ending sign-in sessions', () => {
  it('logout: the session\'s access token gets 401 on /api at once, on every replica, and its /ws sockets close; other sessions go on', async () => {
    const account = await signUp(a.app);
    const other = await signInAgain(b.app, account);
    const socketOnA = await ws(a.app, account.accessToken);
    const socketOnB = await ws(b.app, account.accessToken);
    const otherSocket = await ws(b.app, other.accessToken);
    expect((await me(b.app, account.accessToken)).statusCode).toBe(200);

    expect((await post(a.app, '/api/auth/logout', { refreshToken: account.refreshToken })).statusCode).toBe(204);
    expect(await socketOnA.closed).toBe(WS_CLOSE_SESSION_ENDED);
    expect(await socketOnB.closed).toBe(WS_CLOSE_SESSION_ENDED);
    for (const app of [a.app, b.app]) {
      const refused = await me(app, account.accessToken);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.code).toBe('UNAUTHENTICATED');
    }
    // The other device's session is untouched.
    expect((await me(a.app, other.accessToken)).statusCode).toBe(200);
    otherSocket.send({ type: 'ping' });
    await otherSocket.next((event) => event.type === 'pong');
  });

  it('password reset: every session\'s access tokens get 401 and every /ws socket of the user closes', async () => {
    const account = await signUp(a.app);
    const other = await signInAgain(b.app, account);
    const sockets = [await ws(a.app, account.accessToken), await ws(b.app, other.accessToken)];
    expect((await post(b.app, '/api/auth/forgot-password', { email: account.email })).statusCode).toBe(202);
    const code = b.mailer.lastCode(account.email);
    const reset = await post(a.app, '/api/auth/reset-password', { email: account.email, code, newPassword: 'a brand new passphrase' });
    expect(reset.statusCode, reset.body).toBe(200);
    for (const socket of sockets) expect(await socket.closed).toBe(WS_CLOSE_SESSION_ENDED);
    for (const token of [account.accessToken, other.accessToken]) {
      for (const app of [a.app, b.app]) expect((await me(app, token)).statusCode).toBe(401);
    }
    // Signing in with the new password starts a session that works.
    const fresh = await post(b.app, '/api/auth/login', { email: account.email, password: 'a brand new passphrase' });
    expect((await me(a.app, fresh.json().accessToken)).statusCode).toBe(200);
    expect((await post(a.app, '/api/auth/login', { email: account.email, password: PASSWORD })).statusCode).toBe(401);
  });
});
