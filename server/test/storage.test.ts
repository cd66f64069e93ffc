import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { InProcessBus } from '../src/bus';
import { ApiError } from '../src/errors';
import { LocalStorage, S3Storage, type Storage } from '../src/storage';
import { captureLogger, tempDir, testConfig } from './helpers';

interface Fetched {
  status: number;
  body: string;
  contentType: string | undefined;
}

interface Backend {
  storage: Storage;
  /** GETs a signed URL the way a browser would reach it. */
  fetchSigned(url: string): Promise<Fetched>;
  close(): Promise<void>;
}

async function localBackend(): Promise<Backend> {
  const config = await testConfig({ PUBLIC_URL: 'http://podlive.test' });
  const app = build(config, { logger: captureLogger().logger, bus: new InProcessBus({ logger: captureLogger().logger }) });
  await app.ready();
  return {
    storage: app.storage,
    async fetchSigned(url) {
      const { pathname, search, origin } = new URL(url);
      expect(origin).toBe('http://podlive.test');
      const response = await app.inject({ method: 'GET', url: pathname + search });
      return { status: response.statusCode, body: response.body, contentType: String(response.headers['content-type']) };
    },
    close: () => app.close(),
  };
}

async function s3Backend(): Promise<Backend> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: await tempDir(), configureBuckets: [{ name: 'media' }] });
  const { port } = await server.run();
  const storage = new S3Storage({
    bucket: 'media', region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER',
  });
  return {
    storage,
    async fetchSigned(url) {
      const response = await fetch(url);
      return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') ?? undefined };
    },
    async close() {
      storage.close();
      await server.close();
    },
  };
}

describe.each([
  ['LocalStorage', localBackend],
  ['S3Storage', s3Backend],
] as const)('%s', (_name, makeBackend) => {
  let backend: Backend;
  let storage: Storage;
  beforeAll(async () => {
    backend = await makeBackend();
    storage = backend.storage;
  });
  afterAll(() => backend.close());

  const uniqueKey = (name: string) => `tests/${randomBytes(6).toString('hex')}/${name}`;

  it('reads back a Buffer with its content type and size', async () => {
    const key = uniqueKey('avatar.png');
    const bytes = randomBytes(4096);
    await storage.put(key, bytes, 'image/png');
    const object = await storage.get(key);
    expect(object).not.toBeNull();
    expect(object?.contentType).toBe('image/png');
    expect(object?.size).toBe(4096);
    const chunks: Buffer[] = [];
    for await (const chunk of object!.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('stores a stream written in several chunks', async () => {
    const key = uniqueKey('chunk-0001.m4s');
    await storage.put(key, Readable.from([Buffer.from('one '), Buffer.from('two '), Buffer.from('three')]), 'video/iso.segment');
    const object = await storage.get(key);
    expect(await text(object!.body)).toBe('one two three');
    expect(object?.contentType).toBe('video/iso.segment');
  });

  it('replaces an object put again under the same key', async () => {
    const key = uniqueKey('playlist.m3u8');
    await storage.put(key, Buffer.from('old'), 'text/plain');
    await storage.put(key, Buffer.from('#EXTM3U'), 'application/vnd.apple.mpegurl');
    const object = await storage.get(key);
    expect(await text(object!.body)).toBe('#EXTM3U');
    expect(object?.contentType).toBe('application/vnd.apple.mpegurl');
  });

  it('returns null for a missing key', async () => {
    expect(await storage.get(uniqueKey('missing.bin'))).toBeNull();
  });

  it('deletes an object, and deleting a missing one is not an error', async () => {
    const key = uniqueKey('thumb.jpg');
    await storage.put(key, Buffer.from('jpeg'), 'image/jpeg');
    await storage.delete(key);
    expect(await storage.get(key)).toBeNull();
    await expect(storage.delete(key)).resolves.toBeUndefined();
  });

  it.each(['../escape', '/etc/passwd', 'a/../../b', 'a//b', '.hidden', 'a/./b', 'a\\b', 'space key', ''])(
    'rejects the key %j in every method',
    async (key) => {
      const invalid = { name: 'ApiError', code: 'STORAGE_KEY_INVALID' };
      await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toMatchObject(invalid);
      await expect(storage.get(key)).rejects.toBeInstanceOf(ApiError);
      await expect(storage.delete(key)).rejects.toMatchObject(invalid);
      await expect(storage.signedUrl(key, 60)).rejects.toMatchObject(invalid);
    },
  );

  it('makes a signed URL that serves the object with its content type', async () => {
    const key = uniqueKey('episode_1.mp4');
    await storage.put(key, Buffer.from('mp4 bytes'), 'video/mp4');
    const url = await storage.signedUrl(key, 300);
    const response = await backend.fetchSigned(url);
    expect(response.status).toBe(200);
    expect(response.body).toBe('mp4 bytes');
    expect(response.contentType).toBe('video/mp4');
  });
});

describe('LocalStorage files', () => {
  it('keeps objects under its directory and leaves no temporary files', async () => {
    const dir = await tempDir();
    const storage = new LocalStorage({ dir, publicUrl: 'http://x', urlSecret: 's' });
    await storage.put('a/b/c.txt', Buffer.from('hello'), 'text/plain');
    const { readdir, readFile } = await import('node:fs/promises');
    expect(await readFile(`${dir}/objects/a/b/c.txt`, 'utf8')).toBe('hello');
    expect(await readdir(`${dir}/tmp`)).toEqual([]);
  });
});
