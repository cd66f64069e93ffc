import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorRegistry, sendError, type ErrorCode } from '@podlive/shared/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestFailure, request } from '../src/lib/live/request';

/** An HTTP edge answering every request with one registry error, the way the SFU and recorder do. */
let server: Server;
let base: string;
let answer: ErrorCode = 'LIVE_ENDED';

beforeAll(async () => {
  server = createServer((_req, res) => {
    sendError({ code: (status) => ((res.statusCode = status), { send: (body) => res.setHeader('content-type', 'application/json').end(JSON.stringify(body)) }) }, answer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function failureOf(path: string): Promise<RequestFailure> {
  const err: unknown = await request(path, { method: 'POST' }).catch((e: unknown) => e);
  if (!(err instanceof RequestFailure)) throw new Error(`expected a RequestFailure, got ${String(err)}`);
  return err;
}

describe('error codes in the web app', () => {
  it('a refusal carries the registry code and status the edge sent', async () => {
    answer = 'LIVE_ENDED';
    const failure = await failureOf(`${base}/api/live/x/start`);
    expect([failure.status, failure.code, failure.message]).toEqual([409, 'LIVE_ENDED', errorRegistry.LIVE_ENDED.message]);
    expect(failure.code === 'LIVE_ENDED').toBe(true);
    // @ts-expect-error a misspelt code is no ErrorCode: comparing with it fails the type-check (pnpm run check)
    expect(failure.code === 'LIVE_ENDD').toBe(false);
  });

  it('no answer at all is NETWORK, not a registry code', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/api/x`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect((await failureOf(url)).code).toBe('NETWORK');
  });
});
