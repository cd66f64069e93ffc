import { mkdtempSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { RECORDER_CONTROL_ID } from '@podlive/shared/recording';
import { signControlToken, signMediaToken } from '@podlive/shared/tokens';
import { build } from '../src/app';
import { loadConfig } from '../src/config';

const SECRET = 'recorder-control-secret-recorder-control';

describe('the recorder’s control API: only the control plane commands it, with valid bodies', () => {
  let app: FastifyInstance;
  const auth = async (node = RECORDER_CONTROL_ID, secret = SECRET) => ({ authorization: `Bearer ${await signControlToken(secret, node)}` });
  const start = { sessionId: randomUUID(), hostId: randomUUID(), node: { id: 'n1', url: 'http://127.0.0.1:9' } };

  beforeAll(async () => {
    app = await build(loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'podlive-recorder-control-')), MEDIA_TOKEN_SECRET: SECRET }));
  });
  afterAll(() => app?.close());

  it('refuses commands without a control token for the recorder (none, forged, for another service, a media token)', async () => {
    const media = await signMediaToken(SECRET, { sid: start.sessionId, sub: 'u', role: 'recorder', node: 'n1' });
    for (const headers of [{}, await auth(RECORDER_CONTROL_ID, 'another-secret-another-secret-another'), await auth('server'), { authorization: `Bearer ${media}` }]) {
      const res = await app.inject({ method: 'POST', url: '/control/recordings', headers, payload: start });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(0);
  });

  it('rejects bad bodies and ids with a clear error, and records nothing', async () => {
    const headers = await auth();
    for (const payload of [{}, { ...start, sessionId: 'nope' }, { ...start, node: { id: 'bad id!', url: 'http://x' } }, { ...start, extra: 1 }]) {
      const res = await app.inject({ method: 'POST', url: '/control/recordings', headers, payload });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await app.inject({ method: 'POST', url: '/control/recordings/not-a-uuid/stop', headers })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: `/control/recordings/${randomUUID()}`, headers })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(0);
  });

  it('starts recording a live (joining its origin in the background) and stops when told', async () => {
    const headers = await auth();
    const res = await app.inject({ method: 'POST', url: '/control/recordings', headers, payload: start });
    expect(res.statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(1);
    // The origin (port 9) never answers: stopping gives up the join; nothing was captured, nothing to finish.
    const stop = await app.inject({ method: 'POST', url: `/control/recordings/${start.sessionId}/stop`, headers });
    expect(stop.statusCode).toBe(202);
    expect((await app.inject({ method: 'GET', url: '/health' })).json().activeRecordings).toBe(0);
  });
});
