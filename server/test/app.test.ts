import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { InProcessBus } from '../src/bus';
import { databaseHandle } from '../src/db';
import { createTestDb } from '@podlive/db/testing';
import { captureLogger, testConfig } from './helpers';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A stand-in for the SvelteKit process: records each request and answers with a page. */
async function startUpstream(extraHeaders: Record<string, string> = {}) {
  const seen: Seen[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
      response.writeHead(request.url === '/missing' ? 404 : 200, { 'content-type': 'text/html', 'set-cookie': 'theme=dark; Path=/', ...extraHeaders });
      response.end(`<h1>web ${request.method} ${request.url}</h1>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { seen, url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('app', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let app: FastifyInstance;

  beforeAll(async () => {
    upstream = await startUpstream();
    app = build(await testConfig({ WEB_URL: upstream.url }), { logger: captureLogger().logger });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });
  afterEach(() => {
    upstream.seen.length = 0;
  });

  it('GET /health reports ok with version, uptime and checks', async () => {
    const response = await app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({ status: 'ok', service: 'server', version, uptimeSec: expect.any(Number), pid: process.pid, checks: { bus: 'ok' } });
    expect(Number.isInteger(body.uptimeSec) && body.uptimeSec >= 0).toBe(true);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(upstream.seen).toEqual([]);
  });

  it.each([
    ['GET', '/api/nope'],
    ['POST', '/api/sessions/123/start'],
    ['GET', '/api'],
    ['DELETE', '/health'],
  ] as const)('%s %s is a coded 404, never proxied', async (method, url) => {
    const response = await app.inject({ method, url });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: `No route for ${method} ${url}` } });
    expect(upstream.seen).toEqual([]);
  });

  it('GET /ws without an upgrade is a coded 426, never proxied', async () => {
    const response = await app.inject({ method: 'GET', url: '/ws' });
    expect(response.statusCode).toBe(426);
    expect(response.json()).toEqual({ error: { code: 'UPGRADE_REQUIRED', message: 'Open this path as a WebSocket' } });
    expect(upstream.seen).toEqual([]);
  });

  it('proxies other paths to the web app with query, status, headers and forwarding info', async () => {
    const response = await app.inject({ method: 'GET', url: '/@ada/live?tab=chat', headers: { host: 'localhost:3000' } });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('<h1>web GET /@ada/live?tab=chat</h1>');
    expect(response.headers['set-cookie']).toBe('theme=dark; Path=/');
    expect(upstream.seen).toHaveLength(1);
    expect(upstream.seen[0]?.headers).toMatchObject({ 'x-forwarded-host': 'localhost:3000', 'x-forwarded-proto': 'http' });
    const missing = await app.inject({ method: 'GET', url: '/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toBe('<h1>web GET /missing</h1>');
  });

  it('proxies form posts with their raw body', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/login?/signin',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'email=ada%40example.com&next=%2F',
    });
    expect(response.statusCode).toBe(200);
    expect(upstream.seen[0]).toMatchObject({ method: 'POST', url: '/login?/signin', body: 'email=ada%40example.com&next=%2F' });
  });
});

describe('app without its dependencies', () => {
  it('answers 503 degraded on /health when the bus is down, without leaking why', async () => {
    const bus = new InProcessBus({ logger: captureLogger().logger });
    await bus.close();
    const app = build(await testConfig(), { logger: captureLogger().logger, bus });
    const response = await app.inject({ method: 'GET', url: '/health' });
    await app.close();
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ status: 'degraded', checks: { bus: 'fail' } });
    expect(response.body).not.toContain('closed');
  });

  it.each(['postgres', 'pglite'] as const)('probes a real %s database, and reports it failing once closed', async (kind) => {
    const db = databaseHandle(await createTestDb(kind));
    const app = build(await testConfig(), { logger: captureLogger().logger, db });
    const up = await app.inject({ method: 'GET', url: '/health' });
    await db.close();
    const down = await app.inject({ method: 'GET', url: '/health' });
    await app.close();
    expect(up.json().checks).toEqual({ bus: 'ok', database: 'ok' });
    expect(down.statusCode).toBe(503);
    expect(down.json().checks).toEqual({ bus: 'ok', database: 'fail' });
  });

  it('answers 502 BAD_GATEWAY when the web app is not running', async () => {
    const gone = await startUpstream();
    await gone.close();
    const app = build(await testConfig({ WEB_URL: gone.url }), { logger: captureLogger().logger });
    const response = await app.inject({ method: 'GET', url: '/' });
    await app.close();
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({ error: { code: 'BAD_GATEWAY', message: 'The web app is not reachable' } });
  });

  it('adds the storage’s origin to the media directives of the pages’ CSP (presigned S3 URLs of private recordings)', async () => {
    const policy = "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; img-src 'self' data: blob:; script-src 'self' 'nonce-abc'";
    const web = await startUpstream({ 'content-security-policy': policy });
    const s3 = { AWS_S3_BUCKET: 'podlive', AWS_ACCESS_KEY_ID: 'key', AWS_SECRET_ACCESS_KEY: 'secret', AWS_ENDPOINT_URL_S3: 'http://s3.example.test:9000' };
    const app = build(await testConfig({ WEB_URL: web.url, ...s3 }), { logger: captureLogger().logger });
    try {
      const response = await app.inject({ method: 'GET', url: '/recordings/1' });
      expect(response.headers['content-security-policy']).toBe(
        "default-src 'self'; connect-src 'self' ws: wss: http://s3.example.test:9000; media-src 'self' blob: http://s3.example.test:9000; img-src 'self' data: blob: http://s3.example.test:9000; script-src 'self' 'nonce-abc'",
      );
    } finally {
      await app.close();
      await web.close();
    }
  });
});
