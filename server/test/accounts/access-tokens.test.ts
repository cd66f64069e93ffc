import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signAccessToken } from '@podlive/shared/accounts';
import { AccessTokens } from '../../src/features/auth/access-tokens';

const SECRET = 'a-test-secret-of-enough-length-for-hs256-0123456789';
const claims = () => ({ sub: randomUUID(), handle: 'ada', sid: randomUUID() });

describe('AccessTokens: access tokens verified once, then remembered until they expire', () => {
  it('gives the claims of a valid token, the same again from memory, and nothing for a forged or foreign one', async () => {
    const tokens = new AccessTokens(SECRET);
    const mine = claims();
    const token = await signAccessToken(SECRET, mine);
    expect(await tokens.verify(token)).toEqual(mine);
    expect(await tokens.verify(token)).toEqual(mine);
    const [header, payload] = token.split('.');
    expect(await tokens.verify(`${header}.${payload}.${'A'.repeat(43)}`)).toBeNull();
    expect(await tokens.verify(await signAccessToken(`${SECRET}-other`, claims()))).toBeNull();
    expect(await tokens.verify('not.a.token')).toBeNull();
  });

  it('a remembered token stops working when it expires', { timeout: 10_000 }, async () => {
    const tokens = new AccessTokens(SECRET);
    const token = await signAccessToken(SECRET, claims(), 2);
    expect(await tokens.verify(token)).not.toBeNull();
    await expect.poll(() => tokens.verify(token), { timeout: 5000, interval: 100 }).toBeNull();
  });

  it('an expired token is refused the first time too', async () => {
    expect(await new AccessTokens(SECRET).verify(await signAccessToken(SECRET, claims(), 0))).toBeNull();
  });

  it('verifying from memory costs a fraction of verifying the signature', async () => {
    const tokens = new AccessTokens(SECRET);
    const many = await Promise.all(Array.from({ length: 200 }, () => signAccessToken(SECRET, claims())));
    const first = performance.now();
    for (const token of many) await tokens.verify(token);
    const fresh = performance.now() - first;
    const again = performance.now();
    for (const token of many) await tokens.verify(token);
    const remembered = performance.now() - again;
    console.info(`[access tokens] 200 verified: ${fresh.toFixed(1)} ms; again from memory: ${remembered.toFixed(1)} ms`);
    expect(remembered).toBeLessThan(fresh);
  });
});
