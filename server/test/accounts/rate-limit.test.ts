import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, type RateLimitConfig } from '../../src/config';
import { post, signUp, startHarness, unique, type Harness } from './harness';

const REDIS_URL = 'redis://127.0.0.1:6379';

const tight = (namespace = DEFAULT_RATE_LIMITS.namespace): RateLimitConfig => ({
  namespace,
  rules: {
    loginIp: { max: 5, windowSec: 60 },
    loginAccount: { max: 3, windowSec: 60 },
    register: { max: 2, windowSec: 60 },
    forgotPassword: { max: 2, windowSec: 60 },
    verifyOtp: { max: 2, windowSec: 60 },
    resendCode: { max: 2, windowSec: 60 },
    createLive: { max: 2, windowSec: 60 },
    stageInvite: { max: 2, windowSec: 60 },
    editRecording: { max: 2, windowSec: 60 },
    recordingView: { max: 1, windowSec: 60 },
    report: { max: 2, windowSec: 60 },
  },
});

const harnesses: Harness[] = [];
afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});
async function start(rateLimits: RateLimitConfig, env: Record<string, string> = {}) {
  const h = await startHarness({ rateLimits }, env);
  harnesses.push(h);
  return h;
}

function expectLimited(response: Awaited<ReturnType<typeof post>>) {
  expect(response.statusCode).toBe(429);
  expect(response.json().error.code).toBe('RATE_LIMITED');
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

describe('rate limits (in-memory store)', () => {
  it('limit login per account, then per IP, with 429 and Retry-After', async () => {
    const h = await start({ ...tight(), rules: { ...tight().rules, register: { max: 100, windowSec: 60 } } });
    const account = await signUp(h.app); // one login
    const wrong = { email: account.email, password: 'wrong password 1' };
    expect((await post(h.app, '/api/auth/login', wrong)).statusCode).toBe(401);
    expect((await post(h.app, '/api/auth/login', wrong)).statusCode).toBe(401);
    expectLimited(await post(h.app, '/api/auth/login', wrong)); // 4th for this account
    // Another account from the same IP still gets through, until the IP's budget (5) is spent.
    expect((await post(h.app, '/api/auth/login', { email: `other_${unique()}@example.test`, password: 'whatever pass' })).statusCode).toBe(401);
    expectLimited(await post(h.app, '/api/auth/login', { email: `other_${unique()}@example.test`, password: 'whatever pass' }));
  });

  it.each([
    ['/api/auth/register', () => ({ email: `r_${unique()}@example.test`, password: 'long enough passphrase', handle: `rl_${unique()}` })],
    ['/api/auth/forgot-password', () => ({ email: `f_${unique()}@example.test` })],
    ['/api/auth/verify-otp', () => ({ email: `v_${unique()}@example.test`, code: '123456', purpose: 'verify_email' })],
    ['/api/auth/resend-code', () => ({ email: `s_${unique()}@example.test`, purpose: 'verify_email' })],
  ])('limit %s per IP', async (url, body) => {
    const h = await start(tight());
    const users = await h.testDb.db.$count((await import('@podlive/db')).users);
    expect((await post(h.app, url, body())).statusCode).toBeLessThan(429);
    expect((await post(h.app, url, body())).statusCode).toBeLessThan(429);
    expectLimited(await post(h.app, url, body()));
    const created = (await h.testDb.db.$count((await import('@podlive/db')).users)) - users;
    expect(created).toBe(url === '/api/auth/register' ? 2 : 0);
  });

  it('count per browser when the local web server names it in X-Forwarded-For', async () => {
    const h = await start(tight());
    const body = () => ({ email: `f_${unique()}@example.test` });
    const from = (ip: string) => h.app.inject({ method: 'POST', url: '/api/auth/forgot-password', payload: body(), headers: { 'x-forwarded-for': ip } });
    expect((await from('203.0.113.1')).statusCode).toBe(202);
    expect((await from('203.0.113.1')).statusCode).toBe(202);
    expect((await from('203.0.113.1')).statusCode).toBe(429);
    expect((await from('203.0.113.2')).statusCode).toBe(202);
    // Not trusted from a non-local peer: the header can't be used to dodge the limit.
    const remote = (ip: string) =>
      h.app.inject({ method: 'POST', url: '/api/auth/forgot-password', payload: body(), headers: { 'x-forwarded-for': ip }, remoteAddress: '198.51.100.7' });
    expect((await remote('1.1.1.1')).statusCode).toBe(202);
    expect((await remote('1.1.1.2')).statusCode).toBe(202);
    expect((await remote('1.1.1.3')).statusCode).toBe(429);
  });
});

describe('rate limits (Redis store)', () => {
  it('are shared by replicas through Redis, under the configured key prefix', async () => {
    const namespace = `podlive-test-${process.pid}-${unique()}:`;
    const redis = new Redis(REDIS_URL);
    try {
      const a = await start(tight(namespace), { REDIS_URL });
      const b = await start(tight(namespace), { REDIS_URL });
      const body = () => ({ email: `x_${unique()}@example.test` });
      expect((await post(a.app, '/api/auth/forgot-password', body())).statusCode).toBe(202);
      expect((await post(b.app, '/api/auth/forgot-password', body())).statusCode).toBe(202);
      expectLimited(await post(a.app, '/api/auth/forgot-password', body()));
      expectLimited(await post(b.app, '/api/auth/forgot-password', body()));
      // Under REDIS_PREFIX (default podlive:) then the rate-limit namespace.
      const keys = await redis.keys(`podlive:${namespace}*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((k) => k.startsWith(`podlive:${namespace}`))).toBe(true);
      await redis.del(...keys);
    } finally {
      redis.disconnect();
    }
  });
});
