import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { forgedTokens, testKeyPair } from '../src/testing/keys';
import {
  CONTROL_TOKEN_AUDIENCE, devPrivateKey, devPublicKey, MEDIA_TOKEN_AUDIENCE, MEDIA_TOKEN_ISSUER, MediaTokenError, parsePrivateKey, parsePublicKey,
  readControlToken, signControlToken, signMediaToken, verifyControlToken, verifyMediaToken, type MediaClaims,
} from '../src/tokens';

const KEYS = testKeyPair();
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
  it('round-trips the claims for the node they name, with when they were signed (EdDSA)', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await signMediaToken(KEYS.privateKey, { ...claims, name: 'Ada' });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'EdDSA' });
    const verified = await verifyMediaToken(KEYS.publicKey, token, 'node-a');
    expect(verified).toEqual({ ...claims, name: 'Ada', iat: expect.any(Number) });
    expect(verified.iat).toBeGreaterThanOrEqual(before);
    // null: any node (the control plane reading back a token it minted).
    expect(await verifyMediaToken(KEYS.publicKey, token, null)).toMatchObject(claims);
  });

  it('signs ES256 with a P-256 key', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const privateKey = parsePrivateKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const publicKey = parsePublicKey(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const token = await signMediaToken(privateKey, claims);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'ES256' });
    expect(await verifyMediaToken(publicKey, token, 'node-a')).toMatchObject(claims);
    // Each public key accepts its own algorithm only.
    expect(await reason(verifyMediaToken(KEYS.publicKey, token, 'node-a'))).toBe('invalid');
  });

  it('refuses a token for another node, an expired one, a malformed one', async () => {
    expect(await reason(verifyMediaToken(KEYS.publicKey, await signMediaToken(KEYS.privateKey, claims), 'node-b'))).toBe('wrong_node');
    expect(await reason(verifyMediaToken(KEYS.publicKey, await signMediaToken(KEYS.privateKey, claims, -5), 'node-a'))).toBe('expired');
    expect(await reason(verifyMediaToken(KEYS.publicKey, 'not.a.jwt', 'node-a'))).toBe('invalid');
  });

  it('refuses a token signed with anything but the private key: another key, ES256, an HS256 secret, the public key as HMAC secret, none', async () => {
    const forged = await forgedTokens({ ...claims }, MEDIA_TOKEN_AUDIENCE, KEYS.publicPem);
    expect(Object.keys(forged)).toHaveLength(5);
    for (const [what, token] of Object.entries(forged)) expect([what, await reason(verifyMediaToken(KEYS.publicKey, token, 'node-a'))]).toEqual([what, 'invalid']);
  });

  it('refuses a correctly signed token with another audience or a role that does not exist', async () => {
    const sign = (payload: object, audience: string) =>
      new SignJWT({ ...payload }).setProtectedHeader({ alg: 'EdDSA' }).setIssuer(MEDIA_TOKEN_ISSUER).setAudience(audience).setExpirationTime('1m').sign(KEYS.privateKey);
    expect(await reason(verifyMediaToken(KEYS.publicKey, await sign(claims, 'somebody-else'), 'node-a'))).toBe('invalid');
    expect(await reason(verifyMediaToken(KEYS.publicKey, await sign({ ...claims, role: 'admin' }, MEDIA_TOKEN_AUDIENCE), 'node-a'))).toBe('invalid');
  });

  it('will not mint a token with invalid claims, nor verify with a private key', async () => {
    await expect(signMediaToken(KEYS.privateKey, { ...claims, sid: '' })).rejects.toThrow();
    const token = await signMediaToken(KEYS.privateKey, claims);
    await expect(verifyMediaToken(KEYS.privateKey as never, token, 'node-a')).rejects.toThrow(TypeError);
  });
});

describe('control tokens', () => {
  it('name the process, the scope and, when bound, the live; each is checked', async () => {
    const token = await signControlToken(KEYS.privateKey, { node: 'server', scope: 'recording:report', sid: 'live-1' });
    expect(await readControlToken(KEYS.publicKey, token)).toEqual({ node: 'server', scope: 'recording:report', sid: 'live-1' });
    expect(await verifyControlToken(KEYS.publicKey, token, { node: 'server', scope: 'recording:report', sid: 'live-1' })).toBe(true);
    expect(await verifyControlToken(KEYS.publicKey, token, { node: 'server', scope: 'recording:report', sid: 'live-2' })).toBe(false);
    expect(await verifyControlToken(KEYS.publicKey, token, { node: 'server', scope: 'recording:report' })).toBe(false);
    expect(await verifyControlToken(KEYS.publicKey, token, { node: 'recorder', scope: 'recording:report', sid: 'live-1' })).toBe(false);
    expect(await verifyControlToken(KEYS.publicKey, token, { node: 'server', scope: 'recording:start', sid: 'live-1' })).toBe(false);
    // A media token is never a control token (another audience).
    expect(await readControlToken(KEYS.publicKey, await signMediaToken(KEYS.privateKey, claims))).toBeUndefined();
    for (const forged of Object.values(await forgedTokens({ node: 'server', scope: 'room:close' }, CONTROL_TOKEN_AUDIENCE, KEYS.publicPem))) {
      expect(await readControlToken(KEYS.publicKey, forged)).toBeUndefined();
    }
  });

  it('refuses an unknown scope when signing', async () => {
    await expect(signControlToken(KEYS.privateKey, { node: 'server', scope: 'everything' as never })).rejects.toThrow();
  });
});

describe('keys', () => {
  it('reads PEM and JWK; a private key is never taken as the public one; other key kinds are refused', () => {
    expect(parsePrivateKey(JSON.stringify(KEYS.privateKey.export({ format: 'jwk' }))).type).toBe('private');
    expect(parsePublicKey(JSON.stringify(KEYS.publicKey.export({ format: 'jwk' }))).equals(KEYS.publicKey)).toBe(true);
    expect(() => parsePublicKey(KEYS.privatePem)).toThrow(/private key/);
    expect(() => parsePublicKey(JSON.stringify(KEYS.privateKey.export({ format: 'jwk' })))).toThrow(/private key/);
    expect(() => parsePrivateKey(KEYS.publicPem)).toThrow(TypeError);
    expect(() => parsePublicKey('{not json')).toThrow(TypeError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => parsePrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toThrow(/Ed25519 .* or P-256/);
  });

  it('a data directory’s development pair is generated once; the public half is written beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podlive-keys-'));
    const publicKey = devPublicKey(dir);
    const privateKey = devPrivateKey(dir);
    expect(publicKey.equals(parsePublicKey(await readFile(join(dir, 'secrets', 'MEDIA_TOKEN_PUBLIC_KEY'), 'utf8')))).toBe(true);
    expect(await verifyMediaToken(publicKey, await signMediaToken(privateKey, claims), 'node-a')).toMatchObject(claims);
    expect(devPublicKey(dir).equals(publicKey)).toBe(true);
  });
});
