import type { FastifyInstance } from 'fastify';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { InProcessBus } from '../src/bus';
import type { Config } from '../src/config';
import { S3Storage, signKey } from '@podlive/storage';
import { captureLogger, testConfig } from './helpers';

const pathOf = (url: string) => {
  const { pathname, search } = new URL(url);
  return pathname + search;
};

describe('GET /api/storage/* (local signed URLs)', () => {
  let app: FastifyInstance;
  let config: Config;
  let urlSecret: string;
  const now = () => Math.floor(Date.now() / 1000);
  /** A correctly signed path for any key, as an attacker who knew the secret could not make. */
  const signedPath = (rawKeyPath: string, key: string, exp = now() + 60) =>
    `/api/storage/${rawKeyPath}?exp=${exp}&sig=${signKey(urlSecret, key, exp)}`;

  beforeAll(async () => {
    config = await testConfig();
    if (config.storage.kind !== 'local') throw new Error('expected local storage');
    urlSecret = config.storage.urlSecret;
    app = build(config, { logger: captureLogger().logger, bus: new InProcessBus({ logger: captureLogger().logger }) });
    await app.ready();
    await app.storage.put('recordings/r1/index.html', Buffer.from('<script>alert(1)</script>'), 'text/html');
    await app.storage.put('avatars/u1.webp', Buffer.from('webp bytes'), 'image/webp');
  });
  afterAll(() => app.close());

  it('serves a valid link with the content type, length and safety headers', async () => {
    const response = await app.inject({ method: 'GET', url: pathOf(await app.storage.signedUrl('avatars/u1.webp', 60)) });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('webp bytes');
    expect(response.headers['content-type']).toBe('image/webp');
    expect(response.headers['content-length']).toBe('10');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toMatch(/^private, max-age=(59|60)$/);
  });

  it('sandboxes uploaded HTML so it cannot run script on this origin', async () => {
    const response = await app.inject({ method: 'GET', url: pathOf(await app.storage.signedUrl('recordings/r1/index.html', 60)) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-security-policy']).toContain('sandbox');
  });

  it('answers HEAD like GET without a body', async () => {
    const response = await app.inject({ method: 'HEAD', url: pathOf(await app.storage.signedUrl('avatars/u1.webp', 60)) });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('');
  });

  it.each([
    ['a tampered signature', (url: URL) => url.searchParams.set('sig', `${url.searchParams.get('sig')!.slice(0, -2)}AA`)],
    ['a later expiry than signed', (url: URL) => url.searchParams.set('exp', String(Number(url.searchParams.get('exp')) + 3600))],
    ['no signature', (url: URL) => url.searchParams.delete('sig')],
    ['a non-numeric expiry', (url: URL) => url.searchParams.set('exp', 'soon')],
    ['another key', (url: URL) => (url.pathname = '/api/storage/recordings/r1/index.html')],
  ])('refuses %s with 403 STORAGE_SIGNATURE_INVALID', async (_case, tamper) => {
    const url = new URL(await app.storage.signedUrl('avatars/u1.webp', 60));
    tamper(url);
    const response = await app.inject({ method: 'GET', url: url.pathname + url.search });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: { code: 'STORAGE_SIGNATURE_INVALID', message: 'The link is invalid' } });
  });

  it('refuses an expired link with 403 STORAGE_LINK_EXPIRED', async () => {
    const response = await app.inject({ method: 'GET', url: signedPath('avatars/u1.webp', 'avatars/u1.webp', now() - 5) });
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('STORAGE_LINK_EXPIRED');
  });

  // inject() resolves literal `..` segments like a browser; a raw client is tested over a socket below.
  it.each([
    ['..%2F..%2Fsecrets%2FJWT_ACCESS_SECRET', '../../secrets/JWT_ACCESS_SECRET'],
    ['..%2Fobjects%2Favatars%2Fu1.webp', '../objects/avatars/u1.webp'],
    ['%2Fetc%2Fpasswd', '/etc/passwd'],
  ])('rejects the traversal key %s with 400 even when correctly signed', async (raw, key) => {
    const response = await app.inject({ method: 'GET', url: signedPath(raw, key) });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('STORAGE_KEY_INVALID');
    expect(response.body).not.toContain(config.secrets.jwtAccess);
  });

  it('rejects literal .. segments sent raw over a socket', async () => {
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const key = 'avatars/../../secrets/JWT_ACCESS_SECRET';
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const { port } = new URL(address);
      // An options object, not a URL string: Node would resolve the `..` segments of a URL.
      const request = http.get({ host: '127.0.0.1', port, path: signedPath(key, key) }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
    });
    expect(body).not.toContain(config.secrets.jwtAccess);
    expect(status).toBe(400);
    expect(JSON.parse(body).error.code).toBe('STORAGE_KEY_INVALID');
  });

  it('answers 404 NOT_FOUND for a signed link to a missing object', async () => {
    const response = await app.inject({ method: 'GET', url: signedPath('avatars/nobody.webp', 'avatars/nobody.webp') });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('NOT_FOUND');
  });
});

describe('GET /api/storage/* with S3 storage', () => {
  it('does not exist: S3 links point at the bucket', async () => {
    const storage = new S3Storage({
      bucket: 'media', region: 'us-east-1', endpoint: 'http://127.0.0.1:9', accessKeyId: 'id', secretAccessKey: 'secret',
    });
    const app = build(await testConfig(), { logger: captureLogger().logger, storage });
    try {
      const response = await app.inject({ method: 'GET', url: '/api/storage/avatars/u1.webp?exp=1&sig=x' });
      expect(response.statusCode).toBe(404);
      expect(response.json().error.code).toBe('NOT_FOUND');
    } finally {
      await app.close();
      storage.close();
    }
  });
});
