import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@podlive/shared/env';
import { forgedTokens, testKeyPair } from '@podlive/shared/testing/keys';
import { MEDIA_TOKEN_AUDIENCE, type MediaClaims } from '@podlive/shared/tokens';
import { loadConfig } from '../src/config';
import { KEYS, rawSocket, refusal, token } from './helpers';
import { NodeProcess } from './node-process';

const claims: MediaClaims = { sid: 'keys-room', sub: 'viewer-1', role: 'viewer', node: 'node-t' };

/**
 * A node holds no key that can sign: its process gets only the control plane's public key, and
 * accepts only tokens that key verifies (never one signed by another key, with the old shared
 * HS256 secret, with the public key used as an HMAC secret, or unsigned).
 */
describe('an SFU node and the media token key', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await NodeProcess.start();
  }, 60_000);
  afterAll(() => node?.stop());

  it('the node process’s environment and config hold the public key and nothing that signs', async () => {
    const environ = (await readFile(`/proc/${node.child.pid}/environ`, 'utf8')).split('\0').filter(Boolean);
    const env = Object.fromEntries(environ.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(env.MEDIA_TOKEN_PUBLIC_KEY).toBe(KEYS.publicPem);
    expect(Object.keys(env).filter((name) => /MEDIA_TOKEN_(SECRET|PRIVATE_KEY)/.test(name))).toEqual([]);
    expect(environ.filter((line) => /PRIVATE KEY|"d":/.test(line))).toEqual([]);
    // Given its public key, the node generated no development pair in its data directory.
    expect(existsSync(join(node.dataDir, 'secrets'))).toBe(false);

    // The config the process builds from that environment: one key, and it is public.
    const config = loadConfig(env);
    expect(config.MEDIA_TOKEN_PUBLIC_KEY.type).toBe('public');
    expect(config.MEDIA_TOKEN_PUBLIC_KEY.asymmetricKeyType).toBe('ed25519');
    const keys = Object.entries(config).filter(([, v]) => typeof v === 'object' && v !== null && 'type' in v);
    expect(keys.map(([name, v]) => [name, (v as { type: string }).type])).toEqual([['MEDIA_TOKEN_PUBLIC_KEY', 'public']]);
  });

  it('accepts a token from the control plane’s key', async () => {
    (await rawSocket(node.url, `token=${await token(claims)}`)).close();
  });

  it('refuses a token signed with another Ed25519 key, an ES256 key, the old HS256 secret, the public key as HMAC secret, or none', async () => {
    const attempts = await forgedTokens({ ...claims }, MEDIA_TOKEN_AUDIENCE, KEYS.publicPem);
    expect(Object.keys(attempts)).toHaveLength(5);
    for (const [what, forgery] of Object.entries(attempts)) {
      expect(await refusal(rawSocket(node.url, `token=${forgery}`)), what).toBe(401);
    }
    expect((await node.health()).peers).toBe(0);
  });

  it('refuses a private key, or text that is no key, as MEDIA_TOKEN_PUBLIC_KEY', () => {
    const base = { SFU_PORT: '0', SFU_WORKERS: '1' };
    const pair = testKeyPair();
    const jwk = JSON.stringify(pair.privateKey.export({ format: 'jwk' }));
    for (const value of [pair.privatePem, jwk, 'not a key']) {
      expect(() => loadConfig({ ...base, MEDIA_TOKEN_PUBLIC_KEY: value })).toThrow(ConfigError);
    }
    expect(() => loadConfig({ ...base, MEDIA_TOKEN_PUBLIC_KEY: pair.privatePem })).toThrow(/MEDIA_TOKEN_PUBLIC_KEY: this is a private key/);
    // A public JWK is accepted as well as a PEM.
    expect(loadConfig({ ...base, MEDIA_TOKEN_PUBLIC_KEY: JSON.stringify(pair.publicKey.export({ format: 'jwk' })) }).MEDIA_TOKEN_PUBLIC_KEY.type).toBe('public');
  });
});
