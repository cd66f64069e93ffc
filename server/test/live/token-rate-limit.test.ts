import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generousLimits, signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { createLive } from './harness';

/** GET /api/live/:id/token is limited per address (rateLimits.mediaToken), whoever asks. */

const MAX = 3;
let h: Harness;
let host: Account;
let liveId: string;
beforeAll(async () => {
  h = await startHarness({ rateLimits: { ...generousLimits, rules: { ...generousLimits.rules, mediaToken: { max: MAX, windowSec: 60 } } } });
  host = await signUp(h.app);
  liveId = await createLive(h.app, host);
});
afterAll(async () => {
  await h.close();
});

const token = (address: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url: `/api/live/${liveId}/token`, remoteAddress: address, headers });

describe('media token minting per address', () => {
  it(`the ${MAX + 1}th request from one address is 429 RATE_LIMITED with Retry-After; another address is not limited`, async () => {
    for (let i = 0; i < MAX; i++) expect((await token('203.0.113.7')).statusCode).not.toBe(429);
    const limited = await token('203.0.113.7');
    expect([limited.statusCode, limited.json().error.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Counted for the operators, by limit.
    expect((await h.app.metrics.rateLimited.get()).values).toEqual([expect.objectContaining({ labels: { limit: 'mediaToken' }, value: 1 })]);
    // Signing in does not lift it: the address is what counts.
    expect((await token('203.0.113.7', { authorization: `Bearer ${host.accessToken}` })).statusCode).toBe(429);
    expect((await token('203.0.113.8')).statusCode).not.toBe(429);
  });

  it('behind the web app (a loopback proxy), the browser named in X-Forwarded-For is what counts', async () => {
    for (let i = 0; i < MAX; i++) expect((await token('127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).statusCode).not.toBe(429);
    expect((await token('127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).statusCode).toBe(429);
    expect((await token('127.0.0.1', { 'x-forwarded-for': '198.51.100.2' })).statusCode).not.toBe(429);
  });
});
