import { ConfigError } from '@podlive/shared/env';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';

describe('recorder config: storage settings (the storage package, as the control plane reads them)', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'podlive-recorder-config-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('writes into DATA_DIR/storage when no bucket is set; its links point at PUBLIC_URL, else SERVER_URL', () => {
    const config = loadConfig({ DATA_DIR: dataDir, SERVER_URL: 'http://10.0.0.5:3000' });
    expect(config.storage).toMatchObject({ kind: 'local', dir: join(dataDir, 'storage'), publicUrl: 'http://10.0.0.5:3000' });
    expect(loadConfig({ DATA_DIR: dataDir, PUBLIC_URL: 'https://pod.example/' }).storage).toMatchObject({ publicUrl: 'https://pod.example' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('treats a blank AWS_ENDPOINT_URL_S3 as unset, as the control plane does', () => {
    const config = loadConfig({ DATA_DIR: dataDir, AWS_S3_BUCKET: 'media', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_S3: '' });
    expect(config.storage).toEqual({ kind: 's3', bucket: 'media', region: 'us-east-1', endpoint: undefined, accessKeyId: 'id', secretAccessKey: 'secret' });
  });

  it("names a bucket's missing key and the recorder's own bad variable in one error", () => {
    const error = (() => {
      try {
        loadConfig({ DATA_DIR: dataDir, AWS_S3_BUCKET: 'media', AWS_ACCESS_KEY_ID: 'id', RECORDER_PORT: 'x' });
      } catch (err) {
        return err;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('AWS_SECRET_ACCESS_KEY: required when AWS_S3_BUCKET is set');
    expect((error as Error).message).toContain('RECORDER_PORT');
  });
});

describe('recorder config', () => {
  it('is made like every process\'s: blank means the default, derived values, frozen all the way down', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'podlive-recorder-config-'));
    const config = loadConfig({ DATA_DIR: dataDir, RECORDER_PORT: '', REDIS_URL: ' ' });
    expect([config.RECORDER_PORT, config.REDIS_URL, config.RECORDER_WORK_DIR]).toEqual([3002, undefined, join(dataDir, 'recorder')]);
    expect(Object.isFrozen(config) && Object.isFrozen(config.storage)).toBe(true);
  });

  it('a bad variable is a ConfigError naming it', () => {
    expect(() => loadConfig({ RECORDER_CHUNK_SECONDS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_PREFIX: 'has space' })).toThrow(/REDIS_PREFIX: must be 1-64/);
  });
});
