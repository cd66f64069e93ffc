import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer, text } from 'node:stream/consumers';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STORAGE_ROUTE, LocalStorage, S3Storage, signKey, StorageError, type Storage } from '../src/index';
import { tempDir } from './helpers';
import { startS3rverProcess } from './s3rver-process';

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

/**
 * A LocalStorage whose links are followed as the control plane's route does (server/src/routes/
 * storage.ts, tested over HTTP there): the key from the path, verify(), then get().
 */
async function localBackend(): Promise<Backend> {
  const storage = new LocalStorage({ dir: await tempDir(), publicUrl: 'http://podlive.test/', urlSecret: randomBytes(32).toString('base64url') });
  return {
    storage,
    async fetchSigned(url) {
      const { origin, pathname, searchParams } = new URL(url);
      expect(origin).toBe('http://podlive.test');
      expect(pathname.startsWith(`${LOCAL_STORAGE_ROUTE}/`)).toBe(true);
      const key = decodeURIComponent(pathname.slice(LOCAL_STORAGE_ROUTE.length + 1));
      const check = storage.verify(key, searchParams.get('exp') ?? undefined, searchParams.get('sig') ?? undefined);
      if (check !== 'valid') return { status: 403, body: check, contentType: undefined };
      const object = await storage.get(key);
      if (object === null) return { status: 404, body: '', contentType: undefined };
      return { status: 200, body: await text(object.body), contentType: object.contentType };
    },
    close: async () => {},
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
      const invalid = { name: 'StorageError', code: 'KEY_INVALID', fields: { key: expect.any(String) } };
      await expect(storage.put(key, Buffer.from('x'), 'text/plain')).rejects.toMatchObject(invalid);
      await expect(storage.get(key)).rejects.toBeInstanceOf(StorageError);
      await expect(storage.delete(key)).rejects.toMatchObject(invalid);
      await expect(storage.signedUrl(key, 60)).rejects.toMatchObject(invalid);
    },
  );

  it('deletePrefix removes every object under the prefix (nested too) and nothing beside it', async () => {
    const root = uniqueKey('session');
    const inside = [`${root}/live/master.m3u8`, `${root}/live/r0/init-0.mp4`, `${root}/live/r0/seg-00000.m4s`, `${root}/vod/720p.mp4`, `${root}/thumbnail.jpg`];
    const beside = [`${root}-other/thumbnail.jpg`, `${root}x/a.txt`];
    for (const key of [...inside, ...beside]) await storage.put(key, Buffer.from(key), 'application/octet-stream');
    expect(await storage.deletePrefix(`${root}/`)).toBe(inside.length);
    for (const key of inside) expect(await storage.get(key)).toBeNull();
    for (const key of beside) expect(await text((await storage.get(key))!.body)).toBe(key);
    expect(await storage.deletePrefix(`${root}/`)).toBe(0);
    // A put after the delete is an ordinary object again.
    await storage.put(`${root}/live/master.m3u8`, Buffer.from('again'), 'text/plain');
    expect(await text((await storage.get(`${root}/live/master.m3u8`))!.body)).toBe('again');
  });

  it('deletePrefix leaves an object whose key is the prefix without its slash', async () => {
    const key = uniqueKey('object');
    await storage.put(key, Buffer.from('x'), 'text/plain');
    expect(await storage.deletePrefix(`${key}/`)).toBe(0);
    expect(await text((await storage.get(key))!.body)).toBe('x');
  });

  it.each(['', '/', 'recordings', '../x/', 'a//', '.hidden/'])('deletePrefix refuses the prefix %j', async (prefix) => {
    await expect(storage.deletePrefix(prefix)).rejects.toMatchObject({ name: 'StorageError', code: 'KEY_INVALID', fields: { prefix: expect.any(String) } });
  });

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

describe('S3Storage.deletePrefix over more than one listing page', () => {
  it('deletes 1,005 objects: two ListObjectsV2 pages (continuation token), two DeleteObjects', async () => {
    const s3 = await startS3rverProcess();
    try {
      const root = `tests/${randomBytes(6).toString('hex')}`;
      const keys = Array.from({ length: 1005 }, (_, i) => `${root}/seg-${String(i).padStart(5, '0')}.m4s`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((key) => s3.storage.put(key, Buffer.from('s'), 'video/iso.segment')));
      }
      await s3.storage.put(`${root}-kept/a.txt`, Buffer.from('kept'), 'text/plain');
      expect(await s3.storage.deletePrefix(`${root}/`)).toBe(1005);
      expect(await s3.storage.get(keys[0] ?? '')).toBeNull();
      expect(await s3.storage.get(keys[1004] ?? '')).toBeNull();
      expect(await s3.storage.deletePrefix(`${root}/`)).toBe(0);
      expect(await s3.storage.get(`${root}-kept/a.txt`)).not.toBeNull();
    } finally {
      await s3.close();
    }
  }, 60_000);
});

describe('S3Storage: a large stream is uploaded in parts, never whole in memory', () => {
  it('stores 20 MiB from a stream (lib-storage Upload, 8 MiB parts) and reads back the same bytes', async () => {
    const s3 = await startS3rverProcess();
    try {
      const key = `tests/${randomBytes(6).toString('hex')}/big.mp4`;
      const bytes = randomBytes(20 * 1024 * 1024);
      // A stream of 1 MiB chunks, as a file read would give.
      await s3.storage.put(key, Readable.from(Array.from({ length: 20 }, (_, i) => bytes.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024))), 'video/mp4');
      const object = await s3.storage.get(key);
      expect(object?.size).toBe(bytes.length);
      expect((await buffer(object!.body)).equals(bytes)).toBe(true);
    } finally {
      await s3.close();
    }
  }, 60_000);
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

  it('deletePrefix removes the directory trees of objects and metadata, leaving no temporary files', async () => {
    const dir = await tempDir();
    const storage = new LocalStorage({ dir, publicUrl: 'http://x', urlSecret: 's' });
    await storage.put('recordings/s1/live/r0/seg-00000.m4s', Buffer.from('a'), 'video/iso.segment');
    await storage.put('recordings/s1/thumbnail.jpg', Buffer.from('b'), 'image/jpeg');
    expect(await storage.deletePrefix('recordings/s1/')).toBe(2);
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(`${dir}/objects/recordings`)).toEqual([]);
    expect(await readdir(`${dir}/meta/recordings`)).toEqual([]);
    expect(await readdir(`${dir}/tmp`)).toEqual([]);
  });
});

describe('LocalStorage signed links', () => {
  const secret = 'k'.repeat(43);
  const linkParts = async (storage: LocalStorage, key: string, ttl = 60) => {
    const url = new URL(await storage.signedUrl(key, ttl));
    return { path: url.pathname, exp: url.searchParams.get('exp') ?? undefined, sig: url.searchParams.get('sig') ?? undefined };
  };

  it('points at the control plane route under publicUrl, with the key percent-encoded per segment', async () => {
    const storage = new LocalStorage({ dir: await tempDir(), publicUrl: 'https://pod.example/', urlSecret: secret });
    const url = new URL(await storage.signedUrl('recordings/s_1/vod/720p.mp4', 60));
    expect(url.origin).toBe('https://pod.example');
    expect(url.pathname).toBe('/api/storage/recordings/s_1/vod/720p.mp4');
  });

  it('verifies its own link and refuses a changed key, signature, expiry or secret', async () => {
    const storage = new LocalStorage({ dir: await tempDir(), publicUrl: 'http://x', urlSecret: secret });
    const { exp, sig } = await linkParts(storage, 'avatars/u1.webp');
    expect(storage.verify('avatars/u1.webp', exp, sig)).toBe('valid');
    expect(storage.verify('avatars/u2.webp', exp, sig)).toBe('invalid');
    expect(storage.verify('avatars/u1.webp', String(Number(exp) + 1), sig)).toBe('invalid');
    expect(storage.verify('avatars/u1.webp', exp, `${sig!.slice(0, -2)}AA`)).toBe('invalid');
    expect(storage.verify('avatars/u1.webp', exp, undefined)).toBe('invalid');
    expect(storage.verify('avatars/u1.webp', 'soon', sig)).toBe('invalid');
    const other = new LocalStorage({ dir: await tempDir(), publicUrl: 'http://x', urlSecret: 'o'.repeat(43) });
    expect(other.verify('avatars/u1.webp', exp, sig)).toBe('invalid');
  });

  it('tells an expired link from a forged one only when the signature is right', async () => {
    const storage = new LocalStorage({ dir: await tempDir(), publicUrl: 'http://x', urlSecret: secret });
    const exp = Math.floor(Date.now() / 1000) - 5;
    expect(storage.verify('avatars/u1.webp', String(exp), signKey(secret, 'avatars/u1.webp', exp))).toBe('expired');
    expect(storage.verify('avatars/u1.webp', String(exp), signKey('wrong', 'avatars/u1.webp', exp))).toBe('invalid');
  });
});
