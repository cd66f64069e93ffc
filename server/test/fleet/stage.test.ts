import { queryRows, sql } from '@podlive/db';
import { createTestDb, type TestDb } from '@podlive/db/testing';
import type { StageAcceptResponse } from '@podlive/shared/stage';
import { verifyMediaToken } from '@podlive/shared/tokens';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, signUp, type Account } from '../accounts/harness';
import { createLive, startLive } from '../live/harness';
import { answer, codeOf, invite } from '../stage/harness';
import { ControlServer } from './control-server';
import { fleetApp, KEYS, type FleetApp } from './harness';
import { FakeFleet, redisClient } from './registry';

const redis = redisClient();
let testDb: TestDb;
const closers: Array<() => Promise<void>> = [];
beforeAll(async () => {
  testDb = await createTestDb('postgres');
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await testDb.close();
});

interface Setup {
  f: FleetApp;
  fleet: FakeFleet;
  host: Account;
  viewer: Account;
  sessionId: string;
  nodes: Record<'origin' | 'edgeA' | 'edgeB', ControlServer>;
}

/** A live on `origin` with two edges (edge-a attached in the tree, edge-b reporting the room). */
async function liveOnThreeNodes(env: Record<string, string> = {}): Promise<Setup> {
  const f = await fleetApp(testDb, env);
  closers.push(() => f.close());
  const fleet = new FakeFleet(redis, f.prefix);
  const [origin, edgeA, edgeB] = await Promise.all(['origin', 'edge-a', 'edge-b'].map((id) => ControlServer.start(id, KEYS.publicKey)));
  const nodes = { origin, edgeA, edgeB } as Setup['nodes'];
  for (const node of Object.values(nodes)) closers.push(() => node.close());
  const host = await signUp(f.app, { displayName: 'The Host' });
  const viewer = await signUp(f.app, { displayName: 'Vera Viewer' });
  await fleet.heartbeat('origin', { controlUrl: nodes.origin.url });
  const sessionId = await createLive(f.app, host);
  await startLive(f.app, host, sessionId);
  await fleet.heartbeat('edge-a', { controlUrl: nodes.edgeA.url });
  await fleet.heartbeat('edge-b', { controlUrl: nodes.edgeB.url, sessions: { [sessionId]: { viewers: 1 } } });
  await fleet.attach(sessionId, 'edge-a', 'origin');
  return { f, fleet, host, viewer, sessionId, nodes };
}

async function inviteNode(inviteId: string): Promise<string | null> {
  const [row] = await queryRows<{ node_id: string | null }>(testDb.db, sql`select node_id from stage_invites where id = ${inviteId}`);
  return row?.node_id ?? null;
}

describe('the stage on a fleet', () => {
  it('binds the invite to the edge the viewer watches on, and the grant to the edge they are on when accepting', async () => {
    const { f, host, viewer, sessionId, nodes } = await liveOnThreeNodes();
    nodes.edgeA.watching(sessionId, viewer.id);
    const sent = await invite(f.app, host, sessionId, viewer.handle);
    expect(sent.statusCode).toBe(201);
    const inviteId = sent.json().invite.id as string;
    expect(await inviteNode(inviteId)).toBe('edge-a');
    // Every node of the session was asked.
    for (const node of Object.values(nodes)) expect(node.calls).toContainEqual({ method: 'GET', path: `/control/rooms/${sessionId}/peers` });

    // edge-a drained: the viewer's page moved to edge-b before answering.
    nodes.edgeA.watching(sessionId);
    nodes.edgeB.watching(sessionId, 'someone-else', viewer.id);
    const accepted = await answer(f.app, viewer, inviteId, 'accept');
    expect(accepted.statusCode).toBe(200);
    const { grant } = accepted.json() as StageAcceptResponse;
    expect(grant.nodeId).toBe('edge-b');
    expect(await verifyMediaToken(KEYS.publicKey, grant.token, 'edge-b')).toMatchObject({ sid: sessionId, sub: viewer.id, role: 'guest', node: 'edge-b' });
    expect(await inviteNode(inviteId)).toBe('edge-b');
  });

  it('keeps the invite’s node when the viewer cannot be found at accept time (their page reconnecting)', async () => {
    const { f, host, viewer, sessionId, nodes } = await liveOnThreeNodes();
    nodes.edgeB.watching(sessionId, viewer.id);
    const inviteId = (await invite(f.app, host, sessionId, viewer.handle)).json().invite.id as string;
    nodes.edgeB.watching(sessionId);
    const { grant } = (await answer(f.app, viewer, inviteId, 'accept')).json() as StageAcceptResponse;
    expect(grant.nodeId).toBe('edge-b');
  });

  it('finds a viewer while another node of the session is unreachable; not finding one then is 502, not NOT_WATCHING', async () => {
    const { f, fleet, host, viewer, sessionId, nodes } = await liveOnThreeNodes();
    await fleet.heartbeat('edge-down', { controlUrl: 'http://127.0.0.1:9' });
    await fleet.attach(sessionId, 'edge-down', 'edge-a');
    nodes.edgeA.watching(sessionId, viewer.id);
    const sent = await invite(f.app, host, sessionId, viewer.handle);
    expect(sent.statusCode).toBe(201);
    expect(await inviteNode(sent.json().invite.id as string)).toBe('edge-a');

    const elsewhere = await signUp(f.app);
    expect(codeOf(await invite(f.app, host, sessionId, elsewhere.handle))).toEqual([502, 'BAD_GATEWAY']);
    await fleet.stale('edge-down');
    expect(codeOf(await invite(f.app, host, sessionId, elsewhere.handle))).toEqual([409, 'NOT_WATCHING']);
  });

  it('calls a viewer who watches the live’s HLS (past its WebRTC cap): the invite has no node, their page gets WebRTC for it, the grant names that node', async () => {
    // Recorded lives have HLS; a cap of 0 sends every viewer there.
    const { f, host, viewer, sessionId, nodes } = await liveOnThreeNodes({ RECORDER_URL: 'http://127.0.0.1:9', LIVE_WEBRTC_CAP: '0' });
    const token = (query = '', who: Account | null = viewer) =>
      f.app.inject({ method: 'GET', url: `/api/live/${sessionId}/token${query}`, headers: who ? bearer(who.accessToken) : {} }).then((r) => r.json());
    expect(await token()).toMatchObject({ mode: 'hls', reason: 'cap' });
    // Asking for the stage without an invite changes nothing.
    expect(await token('?stage=1')).toMatchObject({ mode: 'hls' });

    const sent = await invite(f.app, host, sessionId, viewer.handle);
    expect(sent.statusCode).toBe(201);
    const inviteId = sent.json().invite.id as string;
    expect(await inviteNode(inviteId)).toBeNull();
    // Someone never given the HLS (nor on a node) is not watching.
    const stranger = await signUp(f.app);
    expect(codeOf(await invite(f.app, host, sessionId, stranger.handle))).toEqual([409, 'NOT_WATCHING']);
    expect(await token('?stage=1', stranger)).toMatchObject({ mode: 'hls' });
    expect(await token('?stage=1', null)).toMatchObject({ mode: 'hls' });

    // The invitee's page asks for WebRTC to answer: the cap does not hold them back.
    const join = await token('?stage=1');
    expect(join).toMatchObject({ mode: 'webrtc' });
    const byId = { origin: nodes.origin, 'edge-a': nodes.edgeA, 'edge-b': nodes.edgeB } as Record<string, ControlServer>;
    byId[join.node as string]!.watching(sessionId, viewer.id);
    const accepted = await answer(f.app, viewer, inviteId, 'accept');
    expect(accepted.statusCode).toBe(200);
    const { grant } = accepted.json() as StageAcceptResponse;
    expect(grant.nodeId).toBe(join.node);
    expect(await verifyMediaToken(KEYS.publicKey, grant.token, join.node as string)).toMatchObject({ sid: sessionId, sub: viewer.id, role: 'guest' });
  });
});
