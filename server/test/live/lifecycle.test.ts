import { queryRows, sql } from '@podlive/db';
import type { MediaNode } from '@podlive/sfu';
import { verifyMediaToken } from '@podlive/shared/tokens';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, post, signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { createLive, KEYS, NODE_ID, nodeEnv, openProtoo, openWs, roomOnNode, startLive, startNode, until } from './harness';

let node: MediaNode;
let h: Harness;
let host: Account;
let other: Account;
beforeAll(async () => {
  node = await startNode();
  h = await startHarness({}, nodeEnv(node));
  host = await signUp(h.app, { displayName: 'The Host' });
  other = await signUp(h.app, { displayName: 'Someone Else' });
});
afterAll(async () => {
  await h.close();
  await node.close();
});

const get = (url: string, headers: Record<string, string> = {}) => h.app.inject({ method: 'GET', url, headers });

describe('live lifecycle', () => {
  it('refuses start, end and thumbnail to anyone but the host (403 NOT_HOST) and changes nothing', async () => {
    const id = await createLive(h.app, host);
    for (const action of ['start', 'end']) {
      const response = await post(h.app, `/api/live/${id}/${action}`, {}, bearer(other.accessToken));
      expect(response.statusCode).toBe(403);
      expect(response.json().error.code).toBe('NOT_HOST');
    }
    const thumb = await h.app.inject({ method: 'PUT', url: `/api/live/${id}/thumbnail`, headers: bearer(other.accessToken) });
    expect(thumb.json().error.code).toBe('NOT_HOST');
    expect((await post(h.app, `/api/live/${id}/start`, {})).json().error.code).toBe('UNAUTHENTICATED');
    expect((await get(`/api/live/${id}`)).json()).toMatchObject({ status: 'scheduled', startedAt: null, endedAt: null });
    expect(await roomOnNode(node, id)).toBeNull();
  });

  it('answers 400 for a malformed id and 404 LIVE_NOT_FOUND for an unknown one', async () => {
    expect((await post(h.app, '/api/live/nope/start', {}, bearer(host.accessToken))).statusCode).toBe(400);
    const unknown = await post(h.app, '/api/live/00000000-0000-4000-8000-000000000000/end', {}, bearer(host.accessToken));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('LIVE_NOT_FOUND');
    expect((await get('/api/live/00000000-0000-4000-8000-000000000000/token')).statusCode).toBe(404);
  });

  it('starts a live with a host token the real node accepts, and refuses a second live of the same host', async () => {
    const id = await createLive(h.app, host);
    const { session, join } = await startLive(h.app, host, id);
    expect(session).toMatchObject({ id, status: 'live', startedAt: expect.any(String) });
    expect(join.url).toBe(node.url.replace('http', 'ws'));
    expect(join).toMatchObject({ node: NODE_ID });
    expect(await verifyMediaToken(KEYS.publicKey, join.token, NODE_ID)).toMatchObject({ sid: id, sub: host.id, role: 'host', node: NODE_ID, name: 'The Host' });
    const [row] = await queryRows<{ origin_node_id: string }>(h.testDb.db, sql`select origin_node_id from live_sessions where id = ${id}`);
    expect(row?.origin_node_id).toBe(NODE_ID);

    const peer = await openProtoo(join.url, join.token);
    expect(await until(async () => ((await roomOnNode(node, id))?.host === 1 ? true : undefined), 'the host on the node')).toBe(true);
    peer.close();

    // Starting it again (the studio reconnecting) gives a fresh token for the same node.
    const again = await startLive(h.app, host, id);
    expect(again.session.status).toBe('live');
    const second = await createLive(h.app, host);
    const refused = await post(h.app, `/api/live/${second}/start`, {}, bearer(host.accessToken));
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('ALREADY_LIVE');
    expect((await get(`/api/live/${second}`)).json().status).toBe('scheduled');
    await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
  });

  it('gives viewer tokens: anonymous, signed in, and the host; 409 before the start and after the end', async () => {
    const id = await createLive(h.app, host);
    expect((await get(`/api/live/${id}/token`)).json().error.code).toBe('LIVE_NOT_STARTED');
    await startLive(h.app, host, id);

    const anon = await get(`/api/live/${id}/token`);
    expect(anon.statusCode).toBe(200);
    expect(anon.json()).toMatchObject({ url: node.url.replace('http', 'ws'), node: NODE_ID });
    // A single node answers even when the page excludes it: there is nowhere else to go.
    expect((await get(`/api/live/${id}/token?exclude=${NODE_ID}`)).json().node).toBe(NODE_ID);
    const anonClaims = await verifyMediaToken(KEYS.publicKey, anon.json().token, NODE_ID);
    expect(anonClaims).toMatchObject({ sid: id, role: 'viewer', node: NODE_ID });
    expect(anonClaims.sub).toMatch(/^anon:[\w-]{16}$/);
    expect((await verifyMediaToken(KEYS.publicKey, (await get(`/api/live/${id}/token`)).json().token, NODE_ID)).sub).not.toBe(anonClaims.sub);

    const signedIn = await verifyMediaToken(KEYS.publicKey, (await get(`/api/live/${id}/token`, bearer(other.accessToken))).json().token, NODE_ID);
    expect(signedIn).toMatchObject({ sub: other.id, role: 'viewer', name: 'Someone Else' });
    const asHost = await verifyMediaToken(KEYS.publicKey, (await get(`/api/live/${id}/token`, bearer(host.accessToken))).json().token, NODE_ID);
    expect(asHost).toMatchObject({ sub: host.id, role: 'viewer' });

    const viewer = await openProtoo(anon.json().url, anon.json().token);
    await until(async () => ((await roomOnNode(node, id))?.viewer === 1 ? true : undefined), 'the viewer on the node');
    viewer.close();
    await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
    const after = await get(`/api/live/${id}/token`);
    expect(after.statusCode).toBe(409);
    expect(after.json().error.code).toBe('LIVE_ENDED');
  });

  it('ends a live: room closed on the real node, live_ended to /ws subscribers, a second end is 409 LIVE_ENDED', async () => {
    const id = await createLive(h.app, host);
    const { join } = await startLive(h.app, host, id);
    const peer = await openProtoo(join.url, join.token);
    await until(async () => ((await roomOnNode(node, id))?.host === 1 ? true : undefined), 'the room');
    const watcher = await openWs(h.app);
    await watcher.subscribe(id, true);

    const ended = await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
    expect(ended.statusCode).toBe(200);
    expect(ended.json()).toMatchObject({ id, status: 'ended', endedAt: expect.any(String), viewers: 0 });
    expect(await roomOnNode(node, id)).toBeNull();
    expect(await watcher.next((e) => e.type === 'live_ended')).toEqual({ type: 'live_ended', sessionId: id });

    const again = await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('LIVE_ENDED');
    expect((await post(h.app, `/api/live/${id}/start`, {}, bearer(host.accessToken))).json().error.code).toBe('LIVE_ENDED');
    watcher.close();
    peer.close();
  });

  it('still ends the live when the node is unreachable (logged)', async () => {
    const offline = await startHarness({}, { ...nodeEnv(node), SFU_URL: 'http://127.0.0.1:9' });
    try {
      const owner = await signUp(offline.app);
      const id = await createLive(offline.app, owner);
      await startLive(offline.app, owner, id);
      const ended = await post(offline.app, `/api/live/${id}/end`, {}, bearer(owner.accessToken));
      expect(ended.statusCode).toBe(200);
      expect(ended.json().status).toBe('ended');
    } finally {
      await offline.close();
    }
  });
});
