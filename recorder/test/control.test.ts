import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { RECORDER_CONTROL_ID } from '@podlive/shared/recording';
import { forgedTokens, testKeyPair } from '@podlive/shared/testing/keys';
import { CONTROL_TOKEN_AUDIENCE, signControlToken, signMediaToken, type ControlScope } from '@podlive/shared/tokens';
import { build } from '../src/app';
import { loadConfig } from '../src/config';
import { KEYS, reportToken, startBody } from './helpers/control-plane';

describe('the recorder’s control API: only the control plane commands it, with valid bodies', () => {
  let app: FastifyInstance;
  const auth = async (scope: ControlScope = 'recording:start', node = RECORDER_CONTROL_ID, key = KEYS.privateKey) => ({ authorization: `Bearer ${await signControlToken(key, { node, scope })}` });
  let start: Awaited<ReturnType<typeof startBody>>;

  beforeAll(async () => {
    start = await startBody(randomUUID(), randomUUID(), { id: 'n1', url: 'http://127.0.0.1:9' });
    app = await build(loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'podlive-recorder-control-')), MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem }));
  });
  afterAll(() => app?.close());

  it('refuses commands without a control token for the recorder with that scope (none, another key, forged, another service or scope, a media token): 401 UNAUTHENTICATED', async () => {
    const media = await signMediaToken(KEYS.privateKey, { sid: start.sessionId, sub: 'u', role: 'recorder', node: 'n1' });
    const forged = await forgedTokens({ node: RECORDER_CONTROL_ID, scope: 'recording:start' }, CONTROL_TOKEN_AUDIENCE, KEYS.publicPem);
    const refused = [
      {},
      await auth('recording:start', RECORDER_CONTROL_ID, testKeyPair().privateKey),
      await auth('recording:start', 'server'),
      await auth('recording:stop'),
      { authorization: `Bearer ${media}` },
      { authorization: `Bearer ${await reportToken(start.sessionId)}` },
      ...Object.values(forged).map((token) => ({ authorization: `Bearer ${token}` })),
    ];
    for (const headers of refused) {
      const res = await app.inject({ method: 'POST', url: '/control/recordings', headers, payload: start });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
    }
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(0);
  });

  it('rejects bad bodies and ids with a clear error, and records nothing', async () => {
    const headers = await auth();
    for (const payload of [{}, { ...start, sessionId: 'nope' }, { ...start, node: { ...start.node, id: 'bad id!' } }, { ...start, node: { id: 'n1', url: 'http://x' } }, { ...start, reportToken: '' }, { ...start, extra: 1 }]) {
      const res = await app.inject({ method: 'POST', url: '/control/recordings', headers, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    const stopHeaders = await auth('recording:stop');
    expect((await app.inject({ method: 'POST', url: '/control/recordings/not-a-uuid/stop', headers: stopHeaders, payload: { reportToken: 'x' } })).statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: `/control/recordings/${randomUUID()}/stop`, headers: stopHeaders })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/control/recordings/${randomUUID()}`, headers: await auth('recording:read') })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(0);
  });

  it('starts recording a live (joining its origin in the background) and stops when told', async () => {
    const headers = await auth();
    const res = await app.inject({ method: 'POST', url: '/control/recordings', headers, payload: start });
    expect(res.statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(1);
    // The origin (port 9) never answers: stopping gives up the join; nothing was captured, nothing to finish.
    const stop = await app.inject({ method: 'POST', url: `/control/recordings/${start.sessionId}/stop`, headers: await auth('recording:stop'), payload: { reportToken: await reportToken(start.sessionId) } });
    expect(stop.statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(0);
  });
});
