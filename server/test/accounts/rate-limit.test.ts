import { randomHandle } from '@podlive/shared/testing/handles';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS, type RateLimitConfig } from '../../src/config';
import { DEFAULT_LOGIN_THROTTLE, type LoginThrottleConfig } from '../../src/limits';
import { post, signUp, startHarness, unique, type Harness } from './harness';

const REDIS_URL = 'redis://127.0.0.1:6379';

const tight = (namespace = DEFAULT_RATE_LIMITS.namespace): RateLimitConfig => ({
  namespace,
  rules: {
    loginIp: { max: 5, windowSec: 60 },
    register: { max: 2, windowSec: 60 },
    forgotPassword: { max: 2, windowSec: 60 },
    verifyOtp: { max: 2, windowSec: 60 },
    resendCode: { max: 2, windowSec: 60 },
    createLive: { max: 2, windowSec: 60 },
    stageInvite: { max: 2, windowSec: 60 },
    editRecording: { max: 2, windowSec: 60 },
    recordingView: { max: 1, windowSec: 60 },
    report: { max: 2, windowSec: 60 },
    mediaToken: { max: 2, windowSec: 60 },
  },
});

const harnesses: Harness[] = [];
afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});
async function start(rateLimits: RateLimitConfig, env: Record<string, string> = {}, loginThrottle?: LoginThrottleConfig) {
  const h = await startHarness({ rateLimits, ...(loginThrottle === undefined ? {} : { loginThrottle }) }, env);
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
  it('limit login per IP, with 429 and Retry-After', async () => {
    const h = await start({ ...tight(), rules: { ...tight().rules, register: { max: 100, windowSec: 60 } } });
    await signUp(h.app); // one login
    for (let i = 0; i < 4; i++) expect((await post(h.app, '/api/auth/login', { email: `other_${unique()}@example.test`, password: 'whatever pass' })).statusCode).toBe(401);
    expectLimited(await post(h.app, '/api/auth/login', { email: `other_${unique()}@example.test`, password: 'whatever pass' }));
  });

  it('slow wrong passwords for an account with growing delays (429 + Retry-After), and the owner gets in once the short delay is over', async () => {
    // Distinct addresses, as a distributed guesser would use: the per-IP limit is not what stops them.
    const h = await start(DEFAULT_RATE_LIMITS, {}, { freeFailures: 3, maxDelaySec: 2, windowSec: 60 });
    const owner = await signUp(h.app);
    let address = 0;
    const login = (password: string) =>
      h.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: owner.email, password }, remoteAddress: `198.51.100.${++address}` });
    const stranger = () => login('a wrong guess, again');
    for (let i = 0; i < 3; i++) expect((await stranger()).statusCode).toBe(401);
    const waited = async () => {
      const refused = await stranger();
      expectLimited(refused);
      return Number(refused.headers['retry-after']);
    };
    // Waiting as long as Retry-After says (plus a little for the clocks) is what a client does.
    const waitOut = (sec: number) => new Promise((resolve) => setTimeout(resolve, sec * 1000 + 150));
    expect(await waited()).toBe(1); // the 3rd failure earned 1 s
    // The right password is not checked during the delay either (it would be a free guess otherwise).
    expectLimited(await login(owner.password));
    await waitOut(1);
    expect((await stranger()).statusCode).toBe(401); // the 4th failure: 2 s (the cap)
    expect(await waited()).toBe(2);
    await waitOut(2);
    expect((await stranger()).statusCode).toBe(401); // the 5th: still the 2 s cap, never a lock
    expect(await waited()).toBe(2);
    await waitOut(2);
    // The owner gets in within the cap after the stranger's last try, and that clears the count.
    expect((await login(owner.password)).statusCode).toBe(200);
    expect((await stranger()).statusCode).toBe(401);
    expect((await stranger()).statusCode).toBe(401);
  });

  it('by default, ten wrong passwords never lock the owner out for more than the 30 s cap', () => {
    expect(DEFAULT_LOGIN_THROTTLE.maxDelaySec).toBeLessThanOrEqual(30);
    expect(DEFAULT_LOGIN_THROTTLE.freeFailures).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['/api/auth/register', () => ({ email: `r_${unique()}@example.test`, password: 'long enough passphrase', handle: randomHandle('rl') })],
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
