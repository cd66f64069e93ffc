import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { MEDIA_TOKEN_AUDIENCE, MEDIA_TOKEN_ISSUER, MediaTokenError, signMediaToken, verifyMediaToken, type MediaClaims } from '../src/tokens';

const SECRET = 'a'.repeat(40);
const claims: MediaClaims = { sid: 'session-1', sub: 'user-1', role: 'viewer', node: 'node-a' };

async function reason(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof MediaTokenError) return err.reason;
    throw err;
  }
  throw new Error('expected a MediaTokenError');
}

describe('media tokens', () => {
  it('round-trips the claims for the node they name', async () => {
    const token = await signMediaToken(SECRET, { ...claims, name: 'Ada' });
    expect(await verifyMediaToken(SECRET, token, 'node-a')).toEqual({ ...claims, name: 'Ada' });
  });

  it('refuses a token for another node, an expired one, a forged one', async () => {
    expect(await reason(verifyMediaToken(SECRET, await signMediaToken(SECRET, claims), 'node-b'))).toBe('wrong_node');
    expect(await reason(verifyMediaToken(SECRET, await signMediaToken(SECRET, claims, -5), 'node-a'))).toBe('expired');
    expect(await reason(verifyMediaToken('b'.repeat(40), await signMediaToken(SECRET, claims), 'node-a'))).toBe('invalid');
    expect(await reason(verifyMediaToken(SECRET, 'not.a.jwt', 'node-a'))).toBe('invalid');
  });

  it('refuses a correctly signed token with another audience or a role that does not exist', async () => {
    const key = new TextEncoder().encode(SECRET);
    const sign = (payload: object, audience: string) =>
      new SignJWT({ ...payload }).setProtectedHeader({ alg: 'HS256' }).setIssuer(MEDIA_TOKEN_ISSUER).setAudience(audience).setExpirationTime('1m').sign(key);
    expect(await reason(verifyMediaToken(SECRET, await sign(claims, 'somebody-else'), 'node-a'))).toBe('invalid');
    expect(await reason(verifyMediaToken(SECRET, await sign({ ...claims, role: 'admin' }, MEDIA_TOKEN_AUDIENCE), 'node-a'))).toBe('invalid');
  });

  it('will not mint a token with invalid claims', async () => {
    await expect(signMediaToken(SECRET, { ...claims, sid: '' })).rejects.toThrow();
  });
});
