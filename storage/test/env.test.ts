import { ConfigError, parseEnv } from '@podlive/shared/env';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { storageConfig, storageEnvSchema } from '../src/index';
import { tempDir } from './helpers';

/** What a process does: its own schema and the storage settings in one parse, then storageConfig. */
const load = async (env: Record<string, string>, publicUrl = 'http://localhost:3000') => {
  const dataDir = await tempDir();
  const parsed = parseEnv(z.object({ PORT: z.coerce.number().int().optional() }).and(storageEnvSchema), env);
  return { dataDir, parsed, storage: storageConfig(parsed, { dataDir, publicUrl }) };
};
const errorOf = async (env: Record<string, string>) => {
  try {
    await load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('storage settings', () => {
  it('without AWS_S3_BUCKET: the local directory under DATA_DIR, links under the public URL', async () => {
    const { dataDir, storage } = await load({}, 'https://pod.example/');
    expect(storage).toMatchObject({ kind: 'local', dir: join(dataDir, 'storage'), publicUrl: 'https://pod.example' });
  });

  it('gives every process of one DATA_DIR the same link secret (generated once)', async () => {
    const dataDir = await tempDir();
    const first = storageConfig(parseEnv(storageEnvSchema, {}), { dataDir, publicUrl: 'http://a' });
    const second = storageConfig(parseEnv(storageEnvSchema, {}), { dataDir, publicUrl: 'http://b' });
    if (first.kind !== 'local' || second.kind !== 'local') throw new Error('expected local storage');
    expect(first.urlSecret.length).toBeGreaterThanOrEqual(43);
    expect(second.urlSecret).toBe(first.urlSecret);
  });

  it('with a bucket and keys: S3, region us-east-1 by default, the custom endpoint when set', async () => {
    const keys = { AWS_S3_BUCKET: 'media', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' };
    expect((await load(keys)).storage).toEqual({
      kind: 's3', bucket: 'media', region: 'us-east-1', endpoint: undefined, accessKeyId: 'id', secretAccessKey: 'secret',
    });
    expect((await load({ ...keys, AWS_REGION: 'eu-west-3', AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' })).storage).toMatchObject({
      region: 'eu-west-3', endpoint: 'http://127.0.0.1:9000',
    });
  });

  it('treats blank values as unset', async () => {
    expect((await load({ AWS_S3_BUCKET: ' ', AWS_ENDPOINT_URL_S3: '' })).storage.kind).toBe('local');
    const s3 = (await load({ AWS_S3_BUCKET: 'media', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_S3: '', AWS_REGION: '' })).storage;
    expect(s3).toMatchObject({ kind: 's3', endpoint: undefined, region: 'us-east-1' });
  });

  it('names each missing key when a bucket is set', async () => {
    const both = await errorOf({ AWS_S3_BUCKET: 'media' });
    expect(both).toContain('AWS_ACCESS_KEY_ID: required when AWS_S3_BUCKET is set');
    expect(both).toContain('AWS_SECRET_ACCESS_KEY: required when AWS_S3_BUCKET is set');
    const one = await errorOf({ AWS_S3_BUCKET: 'media', AWS_ACCESS_KEY_ID: 'id' });
    expect(one).toContain('AWS_SECRET_ACCESS_KEY');
    expect(one).not.toContain('AWS_ACCESS_KEY_ID');
  });

  it("reports a bad endpoint together with the process's own bad variables", async () => {
    const message = await errorOf({ AWS_ENDPOINT_URL_S3: 'ftp://files', PORT: 'many' });
    expect(message).toContain('AWS_ENDPOINT_URL_S3');
    expect(message).toContain('PORT');
  });
});
