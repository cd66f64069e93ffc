import { ConfigError } from '@podlive/shared/env';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { tempDir } from './helpers';

const errorOf = (run: () => unknown): Error => {
  try {
    run();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
};

describe('loadConfig', () => {
  it('applies defaults for a machine without settings', async () => {
    const dataDir = await tempDir();
    const config = loadConfig({ DATA_DIR: dataDir });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3000,
      publicUrl: 'http://localhost:3000',
      dataDir,
      databaseUrl: undefined,
      redisUrl: undefined,
      webUrl: 'http://127.0.0.1:3001',
      sfuUrl: 'http://127.0.0.1:4443',
      storage: { kind: 'local', dir: join(dataDir, 'storage') },
      mail: { kind: 'outbox', dir: join(dataDir, 'outbox'), from: 'PodLive <no-reply@localhost>' },
    });
  });

  it('returns a deeply frozen object', async () => {
    const config = loadConfig({ DATA_DIR: await tempDir() });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.secrets)).toBe(true);
    expect(Object.isFrozen(config.storage)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('derives PUBLIC_URL from PORT and strips a trailing slash from a given one', async () => {
    const dataDir = await tempDir();
    expect(loadConfig({ DATA_DIR: dataDir, PORT: '4100' }).publicUrl).toBe('http://localhost:4100');
    expect(loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://podlive.example/' }).publicUrl).toBe('https://podlive.example');
  });

  it.each(['abc', '70000', '-1', '3.5'])('rejects PORT=%s with an error naming PORT', async (port) => {
    const err = errorOf(() => loadConfig({ DATA_DIR: '/tmp/unused', PORT: port }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/\bPORT\b/);
  });

  it('names REDIS_URL and WEB_URL when they are not URLs of the right kind', () => {
    const err = errorOf(() => loadConfig({ DATA_DIR: '/tmp/unused', REDIS_URL: 'http://x', WEB_URL: 'nope' }));
    expect(err.message).toContain('REDIS_URL');
    expect(err.message).toContain('WEB_URL');
  });

  it('names the missing S3 key when a bucket is set without it', async () => {
    const dataDir = await tempDir();
    const missingSecret = errorOf(() => loadConfig({ DATA_DIR: dataDir, AWS_S3_BUCKET: 'media', AWS_ACCESS_KEY_ID: 'id' }));
    expect(missingSecret).toBeInstanceOf(ConfigError);
    expect(missingSecret.message).toContain('AWS_SECRET_ACCESS_KEY');
    expect(missingSecret.message).not.toContain('AWS_ACCESS_KEY_ID');
    const missingBoth = errorOf(() => loadConfig({ DATA_DIR: dataDir, AWS_S3_BUCKET: 'media' }));
    expect(missingBoth.message).toContain('AWS_ACCESS_KEY_ID');
    expect(missingBoth.message).toContain('AWS_SECRET_ACCESS_KEY');
  });

  it('selects S3 storage with path-style endpoint settings when the bucket and keys are set', async () => {
    const config = loadConfig({
      DATA_DIR: await tempDir(),
      AWS_S3_BUCKET: 'media',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000',
    });
    expect(config.storage).toEqual({
      kind: 's3', bucket: 'media', region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', accessKeyId: 'id', secretAccessKey: 'secret',
    });
  });

  it('selects SMTP when SMTP_HOST is set, implicit TLS only on 465, and requires SMTP_PASS with SMTP_USER', async () => {
    const dataDir = await tempDir();
    const smtp = loadConfig({ DATA_DIR: dataDir, SMTP_HOST: 'mail.example', SMTP_FROM: 'PodLive <hi@podlive.example>' });
    expect(smtp.mail).toEqual({
      kind: 'smtp', host: 'mail.example', port: 587, secure: false, user: undefined, pass: undefined, from: 'PodLive <hi@podlive.example>',
    });
    expect(loadConfig({ DATA_DIR: dataDir, SMTP_HOST: 'mail.example', SMTP_PORT: '465' }).mail).toMatchObject({ secure: true });
    const err = errorOf(() => loadConfig({ DATA_DIR: dataDir, SMTP_HOST: 'mail.example', SMTP_USER: 'u' }));
    expect(err.message).toContain('SMTP_PASS');
  });

  it('reads TURN_URLS and TURN_SECRET together, and names what is wrong', async () => {
    const dataDir = await tempDir();
    expect(loadConfig({ DATA_DIR: dataDir }).turn).toBeNull();
    const secret = 'x'.repeat(32);
    const turn = loadConfig({ DATA_DIR: dataDir, TURN_URLS: 'turn:live.example:3478?transport=udp, turns:live.example:443?transport=tcp', TURN_SECRET: secret }).turn;
    expect(turn).toEqual({ urls: ['turn:live.example:3478?transport=udp', 'turns:live.example:443?transport=tcp'], secret });
    expect(errorOf(() => loadConfig({ DATA_DIR: dataDir, TURN_URLS: 'turn:live.example' })).message).toContain('TURN_SECRET');
    expect(errorOf(() => loadConfig({ DATA_DIR: dataDir, TURN_SECRET: secret })).message).toContain('TURN_URLS');
    expect(errorOf(() => loadConfig({ DATA_DIR: dataDir, TURN_URLS: 'https://live.example', TURN_SECRET: secret })).message).toContain('turn: or turns:');
    expect(errorOf(() => loadConfig({ DATA_DIR: dataDir, TURN_URLS: 'turn:live.example', TURN_SECRET: 'short' })).message).toContain('32 characters');
  });

  it('generates secrets once per DATA_DIR and returns the same ones on the next load', async () => {
    const dataDir = await tempDir();
    const first = loadConfig({ DATA_DIR: dataDir });
    const second = loadConfig({ DATA_DIR: dataDir });
    expect(second.secrets.jwtAccess).toBe(first.secrets.jwtAccess);
    expect(second.secrets.jwtRefresh).toBe(first.secrets.jwtRefresh);
    expect(existsSync(join(dataDir, 'secrets', 'JWT_ACCESS_SECRET'))).toBe(true);
    // The media token key pair: an Ed25519 private key in DATA_DIR/secrets (PKCS#8 PEM), the same on the next load.
    const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(readFileSync(join(dataDir, 'secrets', 'MEDIA_TOKEN_PRIVATE_KEY'), 'utf8').trim()).toBe(pem(first.secrets.mediaToken).trim());
    expect(pem(second.secrets.mediaToken)).toBe(pem(first.secrets.mediaToken));
    expect(first.secrets.mediaToken.asymmetricKeyType).toBe('ed25519');
    expect(first.secrets.mediaTokenPublic.equals(createPublicKey(first.secrets.mediaToken))).toBe(true);
    const { jwtAccess, jwtRefresh } = first.secrets;
    expect(new Set([jwtAccess, jwtRefresh]).size).toBe(2);
    expect(jwtAccess.length).toBeGreaterThanOrEqual(32);
    const other = loadConfig({ DATA_DIR: await tempDir() });
    expect(other.secrets.jwtAccess).not.toBe(jwtAccess);
  });

  it('uses secrets from the environment and rejects short ones without echoing them', async () => {
    const dataDir = await tempDir();
    const given = 'x'.repeat(40);
    expect(loadConfig({ DATA_DIR: dataDir, JWT_REFRESH_SECRET: given }).secrets.jwtRefresh).toBe(given);
    const err = errorOf(() => loadConfig({ DATA_DIR: dataDir, JWT_ACCESS_SECRET: 'short-secret-value' }));
    expect(err.message).toContain('JWT_ACCESS_SECRET');
    expect(err.message).not.toContain('short-secret-value');
    // MEDIA_TOKEN_PRIVATE_KEY: a PEM or JWK private key; a public key or other text is refused.
    const pair = testKeyPair();
    expect(loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PRIVATE_KEY: pair.privatePem }).secrets.mediaTokenPublic.equals(pair.publicKey)).toBe(true);
    const jwk = JSON.stringify(pair.privateKey.export({ format: 'jwk' }));
    expect(loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PRIVATE_KEY: jwk }).secrets.mediaTokenPublic.equals(pair.publicKey)).toBe(true);
    for (const bad of [pair.publicPem, 'short-secret-value']) {
      const refused = errorOf(() => loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PRIVATE_KEY: bad }));
      expect(refused.message).toContain('MEDIA_TOKEN_PRIVATE_KEY');
      expect(refused.message).not.toContain('short-secret-value');
    }
  });

  it('treats empty variables as unset', async () => {
    const config = loadConfig({ DATA_DIR: await tempDir(), PORT: '', AWS_S3_BUCKET: '', JWT_ACCESS_SECRET: '', REDIS_URL: '' });
    expect(config.port).toBe(3000);
    expect(config.storage.kind).toBe('local');
    expect(config.redisUrl).toBeUndefined();
  });
});

describe('loadConfig: the SFU fleet', () => {
  const redis = 'redis://127.0.0.1:6379';

  it('places on the one SFU_URL node by default, with the default prefix and edge limit', async () => {
    const config = loadConfig({ DATA_DIR: await tempDir() });
    expect(config).toMatchObject({ sfuPlacement: 'single', redisPrefix: 'podlive:', sfuEdgeLimit: 500 });
  });

  it('defaults to the fleet when REDIS_URL is set and SFU_URL is not (blank counts as not set)', async () => {
    const dataDir = await tempDir();
    expect(loadConfig({ DATA_DIR: dataDir, REDIS_URL: redis }).sfuPlacement).toBe('fleet');
    expect(loadConfig({ DATA_DIR: dataDir, REDIS_URL: redis, SFU_URL: ' ' }).sfuPlacement).toBe('fleet');
    expect(loadConfig({ DATA_DIR: dataDir, REDIS_URL: redis, SFU_URL: 'http://sfu:4443' }).sfuPlacement).toBe('single');
    expect(loadConfig({ DATA_DIR: dataDir, REDIS_URL: redis, SFU_URL: 'http://sfu:4443', SFU_PLACEMENT: 'fleet' }).sfuPlacement).toBe('fleet');
    expect(loadConfig({ DATA_DIR: dataDir, REDIS_URL: redis, SFU_PLACEMENT: 'single' }).sfuPlacement).toBe('single');
  });

  it('reads REDIS_PREFIX and SFU_EDGE_LIMIT', async () => {
    const config = loadConfig({ DATA_DIR: await tempDir(), REDIS_PREFIX: 'staging:', SFU_EDGE_LIMIT: '40' });
    expect(config).toMatchObject({ redisPrefix: 'staging:', sfuEdgeLimit: 40 });
  });

  it.each([
    [{ SFU_PLACEMENT: 'fleet' }, 'SFU_PLACEMENT'],
    [{ SFU_PLACEMENT: 'mesh', REDIS_URL: redis }, 'SFU_PLACEMENT'],
    [{ SFU_EDGE_LIMIT: '0' }, 'SFU_EDGE_LIMIT'],
    [{ SFU_EDGE_LIMIT: 'lots' }, 'SFU_EDGE_LIMIT'],
    [{ REDIS_PREFIX: 'has space' }, 'REDIS_PREFIX'],
  ])('rejects %o with an error naming %s', (env, name) => {
    const err = errorOf(() => loadConfig({ DATA_DIR: '/tmp/unused', ...env }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(name);
  });
});
