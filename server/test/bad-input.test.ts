import type { MediaNode } from '@podlive/sfu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, countRows, signUp, startHarness, type Account, type Harness } from './accounts/harness';
import { createLive, nodeEnv, startLive, startNode } from './live/harness';

/**
 * Single requests that once answered 500: a NUL (PostgreSQL text refuses it) where text is stored
 * or looked up, and multipart bodies the parser cannot read. Each is a 400 with a code, and changes nothing.
 */

let h: Harness;
let node: MediaNode;
let host: Account;
let liveId: string;
beforeAll(async () => {
  node = await startNode();
  h = await startHarness({}, nodeEnv(node));
  host = await signUp(h.app);
  liveId = await createLive(h.app, host);
  await startLive(h.app, host, liveId);
}, 60_000);
afterAll(async () => {
  await h?.close();
  await node?.close();
});

const snapshot = async () => Object.fromEntries(await Promise.all(['users', 'live_sessions', 'push_subscriptions'].map(async (t) => [t, await countRows(h.testDb, t)] as const)));

describe('a NUL character is a 400 naming the field, never a failed query', () => {
  it.each([
    ['user search', 'GET', '/api/users/search?q=a%00b', undefined, 'q'],
    ['search suggestions', 'GET', '/api/search/suggest?q=a%00b', undefined, 'q'],
    ['stage suggestions', 'GET', () => `/api/stage/${liveId}/suggestions?q=a%00b`, undefined, 'q'],
    ['a live title', 'POST', '/api/live/create', { title: 'My\u0000show', category: 'Tech' }, 'title'],
    ['a live description', 'POST', '/api/live/create', { title: 'My show', category: 'Tech', description: 'a\u0000b' }, 'description'],
    ['push unsubscribe', 'DELETE', '/api/push/subscriptions', { endpoint: 'https://fcm.googleapis.com/fcm/send/a\u0000b' }, 'endpoint'],
    ['push subscribe', 'POST', '/api/push/subscriptions', { endpoint: 'http://127.0.0.1:9/a\u0000b', keys: { p256dh: 'x', auth: 'y' } }, 'endpoint'],
    ['a handle in a recordings path', 'GET', '/api/users/a%00b/recordings', undefined, 'handle'],
  ] as const)('%s', async (_, method, url, payload, field) => {
    const before = await snapshot();
    const response = await h.app.inject({ method, url: typeof url === 'function' ? url() : url, headers: bearer(host.accessToken), ...(payload === undefined ? {} : { payload }) });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_FAILED', fields: { [field]: expect.any(String) } });
    expect(await snapshot()).toEqual(before);
  });

  it('a handle with a NUL in a profile path is no such user', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/api/users/a%00b' });
    expect([response.statusCode, response.json().error.code]).toEqual([404, 'USER_NOT_FOUND']);
  });
});

describe('a multipart body the parser cannot read is 400 MULTIPART_INVALID', () => {
  const bodies = [
    ['no boundary', 'multipart/form-data', ''],
    ['garbage', 'multipart/form-data; boundary=xyz', 'garbage'],
    ['cut short', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="FIELD"; filename="a.png"\r\n\r\nabc'],
  ] as const;
  it.each(bodies)('avatar: %s', async (_, type, payload) => {
    const response = await h.app.inject({ method: 'PUT', url: '/api/users/me/avatar', headers: { ...bearer(host.accessToken), 'content-type': type }, payload: payload.replace('FIELD', 'avatar') });
    expect([response.statusCode, response.json().error.code]).toEqual([400, 'MULTIPART_INVALID']);
  });
  it.each(bodies)('thumbnail: %s', async (_, type, payload) => {
    const response = await h.app.inject({ method: 'PUT', url: `/api/live/${liveId}/thumbnail`, headers: { ...bearer(host.accessToken), 'content-type': type }, payload: payload.replace('FIELD', 'thumbnail') });
    expect([response.statusCode, response.json().error.code]).toEqual([400, 'MULTIPART_INVALID']);
  });
});
