import { queryRows, sql } from '@podlive/db';
import { createTestDb, type TestDb } from '@podlive/db/testing';
import type { MediaJoin } from '@podlive/shared/live';
import { verifyMediaToken } from '@podlive/shared/tokens';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bearer, post, signUp, type Account } from '../accounts/harness';
import { createLive, openWs, startLive, type WsClient } from '../live/harness';
import { ControlServer } from './control-server';
import { fleetApp, KEYS, type FleetApp } from './harness';
import { FakeFleet, redisClient } from './registry';

const redis = redisClient();
let testDb: TestDb;
const closers: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  testDb = await createTestDb('postgres');
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(async () => {
  await testDb.close();
});

/** A fleet app of its own (own REDIS_PREFIX), its fake fleet, and a host. */
async function setup(env: Record<string, string> = {}): Promise<{ f: FleetApp; fleet: FakeFleet; host: Account }> {
  const f = await fleetApp(testDb, env);
  closers.push(() => f.close());
  return { f, fleet: new FakeFleet(redis, f.prefix), host: await signUp(f.app, { displayName: 'The Host' }) };
}

const get = (f: FleetApp, url: string, headers: Record<string, string> = {}) => f.app.inject({ method: 'GET', url, headers });

async function originOf(sessionId: string): Promise<string | null> {
  const [row] = await queryRows<{ origin_node_id: string | null }>(testDb.db, sql`select origin_node_id from live_sessions where id = ${sessionId}`);
  return row?.origin_node_id ?? null;
}

/** The join answers for `node`, with a token only that node accepts. */
async function expectJoinFor(join: MediaJoin, node: string, claims: object) {
  expect(join).toMatchObject({ node, url: `wss://${node}.media.test` });
  expect(await verifyMediaToken(KEYS.publicKey, join.token, node)).toMatchObject({ ...claims, node });
}

describe('lives on a fleet', () => {
  it('builds FleetPlacement when REDIS_URL is set without SFU_URL', async () => {
    const { f } = await setup();
    expect(f.config.sfuPlacement).toBe('fleet');
  });

  it('starts on the least loaded node and sends viewers to edges; ?exclude skips a node', async () => {
    const { f, fleet, host } = await setup();
    await fleet.heartbeat('n-a', { consumers: 500 });
    await fleet.heartbeat('n-b', { consumers: 100 });
    await fleet.heartbeat('n-c', { consumers: 200 });
    await fleet.heartbeat('n-d', { consumers: 300 });
    const id = await createLive(f.app, host);
    const started = await startLive(f.app, host, id);
    await expectJoinFor(started.join as MediaJoin, 'n-b', { sid: id, sub: host.id, role: 'host' });
    expect(await originOf(id)).toBe('n-b');
    expect(await fleet.tree(id)).toEqual({ origin: 'n-b' });

    const first = await get(f, `/api/live/${id}/token`);
    expect(first.statusCode).toBe(200);
    await expectJoinFor(first.json(), 'n-c', { sid: id, role: 'viewer' });
    // The page lost n-c (killed, say, before its heartbeats stopped): another node, though n-c has room.
    const moved = await get(f, `/api/live/${id}/token?exclude=n-c`);
    expect(moved.statusCode).toBe(200);
    await expectJoinFor(moved.json(), 'n-d', { sid: id, role: 'viewer' });
    expect((await get(f, `/api/live/${id}/token`)).json().node).toBe('n-c');
  });

  it('refuses a malformed exclude or an unknown query field with 400 VALIDATION_FAILED', async () => {
    const { f, fleet, host } = await setup();
    await fleet.heartbeat('n-a');
    const id = await createLive(f.app, host);
    await startLive(f.app, host, id);
    const bad = await get(f, `/api/live/${id}/token?exclude=${encodeURIComponent('no/such node')}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'VALIDATION_FAILED', fields: { exclude: 'Not a node id' } });
    const unknown = await get(f, `/api/live/${id}/token?node=n-a`);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('answers 503 SERVICE_UNAVAILABLE to a start when no node is alive', async () => {
    const { f, fleet, host } = await setup();
    await fleet.heartbeat('gone', {}, Date.now() - 60_000);
    const id = await createLive(f.app, host);
    const response = await post(f.app, `/api/live/${id}/start`, {}, bearer(host.accessToken));
    expect(response.statusCode).toBe(503);
    expect(response.json().error.code).toBe('SERVICE_UNAVAILABLE');
    expect((await get(f, `/api/live/${id}`)).json().status).toBe('scheduled');
  });

  it('resumes a live whose origin died on a new node: token, origin_node_id, a fresh tree, live_started to its viewers', async () => {
    const { f, fleet, host } = await setup();
    await fleet.heartbeat('origin-1', { consumers: 0 });
    await fleet.heartbeat('edge-1', { consumers: 300 });
    await fleet.heartbeat('spare', { consumers: 100 });
    const id = await createLive(f.app, host);
    expect((await startLive(f.app, host, id)).join).toMatchObject({ node: 'origin-1' });
    await fleet.attach(id, 'edge-1', 'origin-1');
    // Starting again while the origin lives: the same node (the studio reconnecting).
    expect((await startLive(f.app, host, id)).join).toMatchObject({ node: 'origin-1' });
    const viewer: WsClient = await openWs(f.app);
    closers.push(() => viewer.close());
    await viewer.subscribe(id, true);
    const from = viewer.events.length;

    await fleet.stale('origin-1');
    const resumed = await startLive(f.app, host, id);
    expect(resumed.session).toMatchObject({ id, status: 'live' });
    await expectJoinFor(resumed.join as MediaJoin, 'spare', { sid: id, sub: host.id, role: 'host' });
    expect(await originOf(id)).toBe('spare');
    expect(await fleet.tree(id)).toEqual({ origin: 'spare' });
    const event = await viewer.next((e) => e.type === 'live_started', from);
    expect(event).toMatchObject({ type: 'live_started', session: { id, status: 'live' } });
    // Viewers follow: their new tokens are for nodes of the new tree (never the dead origin).
    expect((await get(f, `/api/live/${id}/token`)).json().node).toBe('edge-1');
    expect((await startLive(f.app, host, id)).join).toMatchObject({ node: 'spare' });
  });

  it('ends a live by closing its room on every node carrying it, an unreachable one tolerated', async () => {
    const { f, fleet, host } = await setup();
    const nodes = await Promise.all(['origin', 'edge-a', 'edge-b', 'other'].map((id) => ControlServer.start(id, KEYS.publicKey)));
    for (const node of nodes) closers.push(() => node.close());
    const [origin, edgeA, edgeB, other] = nodes as [ControlServer, ControlServer, ControlServer, ControlServer];
    await fleet.heartbeat('origin', { controlUrl: origin.url });
    const id = await createLive(f.app, host);
    await startLive(f.app, host, id);
    await fleet.heartbeat('edge-a', { controlUrl: edgeA.url, consumers: 10 });
    await fleet.heartbeat('edge-b', { controlUrl: edgeB.url, consumers: 10, sessions: { [id]: { viewers: 3 } } });
    await fleet.heartbeat('edge-down', { controlUrl: 'http://127.0.0.1:9', consumers: 10 });
    await fleet.heartbeat('other', { controlUrl: other.url, consumers: 10 });
    await fleet.attach(id, 'edge-a', 'origin');
    await fleet.attach(id, 'edge-down', 'edge-a');

    const ended = await post(f.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
    expect(ended.statusCode).toBe(200);
    expect(ended.json().status).toBe('ended');
    expect([origin, edgeA, edgeB, other].map((node) => node.closed(id))).toEqual([true, true, true, false]);
    expect(await fleet.tree(id)).toEqual({});
  });

  describe('past WebRTC capacity: the live HLS', () => {
    // RECORDER_URL makes lives recorded (they have a live HLS); nothing listens there, which going live tolerates.
    const recorded = { RECORDER_URL: 'http://127.0.0.1:9' };
    const hls = (id: string) => ({
      mode: 'hls',
      playlist: `/api/media/recordings/${id}/ll/master.m3u8`,
      audioPlaylist: `/api/media/recordings/${id}/ll/audio/index.m3u8`,
    });

    it('answers HLS once the live has LIVE_WEBRTC_CAP viewers on its nodes, and WebRTC again when one leaves', async () => {
      const { f, fleet, host } = await setup({ ...recorded, LIVE_WEBRTC_CAP: '2' });
      await fleet.heartbeat('origin', { consumers: 10 });
      const id = await createLive(f.app, host);
      await startLive(f.app, host, id);
      await fleet.heartbeat('origin', { consumers: 10, sessions: { [id]: { viewers: 1, hosts: 1 } } });
      expect((await get(f, `/api/live/${id}/token`)).json()).toMatchObject({ mode: 'webrtc', node: 'origin' });
      // The one just placed counts before the node reports it: the cap is reached.
      const third = (await get(f, `/api/live/${id}/token`)).json();
      // Past the live's own cap a slot frees soon: the page asks again after 5 s.
      expect(third).toEqual({ ...hls(id), reason: 'cap', retryAfterSec: 5 });
      await fleet.heartbeat('origin', { consumers: 10, sessions: { [id]: { viewers: 2, hosts: 1 } } });
      expect((await get(f, `/api/live/${id}/token`)).json()).toMatchObject({ mode: 'hls', reason: 'cap' });
      await fleet.heartbeat('origin', { consumers: 10, sessions: { [id]: { viewers: 1, hosts: 1 } } });
      expect((await get(f, `/api/live/${id}/token`)).json()).toMatchObject({ mode: 'webrtc' });
    });

    it('takes the operator’s cap for one live (npm run fleet -- cap) over LIVE_WEBRTC_CAP', async () => {
      const { f, fleet, host } = await setup({ ...recorded, LIVE_WEBRTC_CAP: '100' });
      await fleet.heartbeat('origin', { consumers: 10 });
      const id = await createLive(f.app, host);
      await startLive(f.app, host, id);
      await redis.hset(`${f.prefix}fleet:session:${id}`, 'webrtcCap', '0');
      expect((await get(f, `/api/live/${id}/token`)).json()).toMatchObject({ mode: 'hls', reason: 'cap' });
      await redis.hdel(`${f.prefix}fleet:session:${id}`, 'webrtcCap');
      expect((await get(f, `/api/live/${id}/token`)).json()).toMatchObject({ mode: 'webrtc' });
    });

    it('answers HLS when every node is at capacity, and 503 when the live has no HLS (not recorded)', async () => {
      const { f, fleet, host } = await setup(recorded);
      await fleet.heartbeat('origin', { consumers: 0, capacity: 1000 });
      const id = await createLive(f.app, host);
      await startLive(f.app, host, id);
      await fleet.heartbeat('origin', { consumers: 1000, capacity: 1000 });
      // The whole fleet full: pages ask again less often (15 s).
      expect((await get(f, `/api/live/${id}/token`)).json()).toEqual({ ...hls(id), reason: 'capacity', retryAfterSec: 15 });

      const plain = await setup();
      await plain.fleet.heartbeat('origin', { consumers: 0, capacity: 1000 });
      const other = await createLive(plain.f.app, plain.host);
      await startLive(plain.f.app, plain.host, other);
      await plain.fleet.heartbeat('origin', { consumers: 1000, capacity: 1000 });
      const refused = await get(plain.f, `/api/live/${other}/token`);
      expect(refused.statusCode).toBe(503);
      expect(refused.json().error.code).toBe('SERVICE_UNAVAILABLE');
    });
  });
});
