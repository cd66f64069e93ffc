import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { build } from '../src/app';
import { ApiError, codeForStatus, errorRegistry } from '../src/errors';
import { captureLogger, testConfig, type LogLine } from './helpers';

describe('error handler', () => {
  let app: FastifyInstance;
  let lines: LogLine[];

  beforeAll(async () => {
    const captured = captureLogger();
    lines = captured.lines;
    app = build(await testConfig({ WEB_URL: 'http://127.0.0.1:9' }), { logger: captured.logger });
    // A feature plugin like the real ones, added before the app is ready.
    app.register(
      async (api) => {
        api.post(
          '/echo',
          { schema: { body: { type: 'object', required: ['handle'], properties: { handle: { type: 'string', minLength: 2 }, age: { type: 'integer' } } } } },
          async (request) => ({ received: request.body }),
        );
        api.get('/conflict', async () => {
          throw new ApiError('CONFLICT', { message: 'Handle taken', fields: { handle: 'is taken' } });
        });
        api.get('/crash', async () => {
          throw new Error('password=hunter2 at db.internal:5432');
        });
        api.get('/limited', async () => {
          // What @fastify/rate-limit throws.
          throw Object.assign(new Error('Rate limit exceeded, retry in 1 minute'), { statusCode: 429 });
        });
        api.get('/zod', async (request) => z.object({ page: z.coerce.number().int().min(1) }).parse(request.query));
        // A key built from request input that the storage package refuses (its own StorageError).
        api.get<{ Querystring: { name: string } }>('/storage-key', async (request) => api.storage.get(`avatars/${request.query.name}`));
      },
      { prefix: '/api/test' },
    );
    await app.ready();
  });
  afterAll(() => app.close());

  it('leaves JSON bodies of /api routes parsed (the proxy parsers stay encapsulated)', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/test/echo', payload: { handle: 'ada', age: 36 } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ received: { handle: 'ada', age: 36 } });
  });

  it('maps schema validation to 400 VALIDATION_FAILED with fields', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/test/echo', payload: { age: 'old' } });
    expect(response.statusCode).toBe(400);
    const { error } = response.json();
    expect(error.code).toBe('VALIDATION_FAILED');
    expect(error.message).toBe(errorRegistry.VALIDATION_FAILED.message);
    expect(Object.keys(error.fields)).toContain('body.handle');
  });

  it('maps a ZodError to 400 VALIDATION_FAILED with the issue paths', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/zod?page=0' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_FAILED', fields: { page: expect.any(String) } });
  });

  it('sends an ApiError with its status, code, message and fields', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/conflict' });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ error: { code: 'CONFLICT', message: 'Handle taken', fields: { handle: 'is taken' } } });
  });

  it('answers 500 INTERNAL for unknown errors without leaking them, and logs them', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/crash' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ error: { code: 'INTERNAL', message: 'Internal server error' } });
    expect(response.body).not.toContain('hunter2');
    const logged = lines.find((line) => line.msg === 'request failed');
    expect(logged?.level).toBe(50);
    expect((logged?.err as { message: string }).message).toContain('hunter2');
  });

  it('maps a StorageError for a bad key to 400 STORAGE_KEY_INVALID with the field at fault', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/storage-key?name=..%2F..%2Fsecrets' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'STORAGE_KEY_INVALID', message: errorRegistry.STORAGE_KEY_INVALID.message, fields: { key: expect.stringContaining('segments') } },
    });
  });

  it('maps a 429 from a rate limiter to RATE_LIMITED', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/test/limited' });
    expect(response.statusCode).toBe(429);
    expect(response.json()).toEqual({ error: { code: 'RATE_LIMITED', message: errorRegistry.RATE_LIMITED.message } });
  });

  it("keeps Fastify's own client error messages (malformed JSON) under BAD_REQUEST", async () => {
    const response = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"handle":' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('BAD_REQUEST');
    expect(response.json().error.message).not.toBe(errorRegistry.BAD_REQUEST.message);
  });

  it('maps 415 for an unsupported body type on /api routes', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/test/echo', headers: { 'content-type': 'application/x-podlive' }, payload: 'x' });
    expect(response.statusCode).toBe(415);
    expect(response.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('error registry', () => {
  it('gives every code a client-facing message and an HTTP error status', () => {
    for (const [code, { status, message }] of Object.entries(errorRegistry)) {
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
      expect(message.length, code).toBeGreaterThan(0);
    }
  });

  it('maps statuses to codes whose own status matches', () => {
    for (const status of [400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 502, 503, 504]) {
      expect(errorRegistry[codeForStatus(status)].status).toBe(status);
    }
    expect(codeForStatus(418)).toBe('BAD_REQUEST');
    expect(codeForStatus(507)).toBe('INTERNAL');
  });
});
