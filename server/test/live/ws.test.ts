import { queryRows, sql } from '@podlive/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, post, signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { createLive, openWs, startLive, until, viewerCounts, type WsClient } from './harness';

let h: Harness;
let host: Account;
const clients: WsClient[] = [];
const open = async (headers: Record<string, string> = {}) => {
  const client = await openWs(h.app, headers);
  clients.push(client);
  return client;
};
beforeAll(async () => {
  // No media node: SFU_URL points nowhere, which only the end's room close notices (and logs).
  h = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9' });
  host = await signUp(h.app);
});
afterAll(async () => {
  for (const client of clients) client.close();
  await h.close();
});

/** A live of a fresh host (a host is live in one session at a time). */
async function liveSession(owner?: Account): Promise<string> {
  const by = owner ?? (await signUp(h.app));
  const id = await createLive(h.app, by);
  await startLive(h.app, by, id);
  return id;
}

describe('/ws protocol', () => {
  it('answers bad JSON and bad shapes with an error event and stays usable', async () => {
    const client = await open();
    client.send('{not json');
    expect(await client.next((e) => e.type === 'error')).toMatchObject({ code: 'BAD_MESSAGE' });
    const from = client.events.length;
    client.send({ type: 'subscribe', sessionId: 'nope' });
    expect(await client.next((e) => e.type === 'error', from)).toMatchObject({ code: 'INVALID_MESSAGE' });
    client.send({ type: 'ping' });
    expect(await client.next((e) => e.type === 'pong')).toEqual({ type: 'pong' });
    const unknown = client.events.length;
    client.send({ type: 'subscribe', sessionId: '00000000-0000-4000-8000-000000000000' });
    expect(await client.next((e) => e.type === 'error', unknown)).toMatchObject({ code: 'LIVE_NOT_FOUND' });
  });

  it('closes the connection on an oversized frame (1009)', async () => {
    const client = await open();
    client.send('x'.repeat(10_000));
    expect(await client.closed).toBe(1009);
  });

  it('refuses an upgrade with a bad bearer token, and opens anonymously without one', async () => {
    await expect(openWs(h.app, { authorization: 'Bearer forged' })).rejects.toThrow(/401/);
    const anonymous = await open();
    anonymous.send({ type: 'ping' });
    await anonymous.next((e) => e.type === 'pong');
  });
});

describe('/ws events', () => {
  it('delivers live_started to a follower signed in by cookie, not to a cross-site cookie nor a stranger', async () => {
    const fan = await signUp(h.app);
    expect((await post(h.app, `/api/users/${host.id}/follow`, {}, bearer(fan.accessToken))).statusCode).toBe(200);
    const viaCookie = await open({ cookie: `podlive_access=${fan.accessToken}`, origin: h.config.publicUrl });
    const crossSite = await open({ cookie: `podlive_access=${fan.accessToken}`, origin: 'https://evil.example' });
    const stranger = await open(bearer((await signUp(h.app)).accessToken));
    const viaBearer = await open(bearer(fan.accessToken));
    // A ping round trip proves each connection's user subscription is active (messages run in order).
    for (const c of [viaCookie, crossSite, stranger, viaBearer]) {
      c.send({ type: 'ping' });
      await c.next((e) => e.type === 'pong');
    }
    const id = await liveSession(host);
    for (const c of [viaCookie, viaBearer]) {
      expect(await c.next((e) => e.type === 'live_started')).toMatchObject({ type: 'live_started', session: { id, status: 'live', host: { id: host.id } } });
    }
    // The events above went out together; the others would have had theirs by now.
    expect(crossSite.events.some((e) => e.type === 'live_started')).toBe(false);
    expect(stranger.events.some((e) => e.type === 'live_started')).toBe(false);
    await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
  });

  it('counts distinct watching connections, pushes the total, records the peak, and decrements on close', async () => {
    const id = await liveSession();
    const subscriber = await open();
    await subscriber.subscribe(id);
    const watchers = await Promise.all([open(), open(), open()]);
    for (const w of watchers) await w.subscribe(id, true);
    await watchers[0]?.subscribe(id, true); // the same connection again: still one viewer
    await subscriber.next((e) => e.type === 'viewer_count' && e.viewers === 3);
    expect((await h.app.inject({ method: 'GET', url: `/api/live/${id}` })).json().viewers).toBe(3);
    expect((await h.app.inject({ method: 'GET', url: `/api/live/${id}/stats` })).json().peakViewers).toBe(3);
    // The row is written after the count changes (not awaited by anyone): it gets there.
    const peakRow = async () => (await queryRows<{ peak_viewers: number }>(h.testDb.db, sql`select peak_viewers from live_sessions where id = ${id}`))[0]?.peak_viewers;
    await until(async () => ((await peakRow()) === 3 ? true : undefined), 'peak_viewers 3 in the row');

    const closing = subscriber.events.length;
    for (const w of watchers) w.close();
    await subscriber.next((e) => e.type === 'viewer_count' && e.viewers === 0, closing);
    const stats = (await h.app.inject({ method: 'GET', url: `/api/live/${id}/stats` })).json();
    expect(stats).toMatchObject({ viewers: 0, peakViewers: 3, status: 'live', startedAt: expect.any(String) });
  });

  it('counts anonymous sockets once per address, signed-in users once per user', async () => {
    const id = await liveSession();
    const subscriber = await open();
    await subscriber.subscribe(id);
    // Ten anonymous sockets from one address, two from another.
    const crowd = await Promise.all(Array.from({ length: 10 }, () => open({ 'x-forwarded-for': '203.0.113.50' })));
    const pair = await Promise.all([open({ 'x-forwarded-for': '203.0.113.51' }), open({ 'x-forwarded-for': '203.0.113.51' })]);
    // Two users, one in two tabs, all from that first address.
    const [ana, ben] = await Promise.all([signUp(h.app), signUp(h.app)]);
    const users = await Promise.all([ana, ana, ben].map((u) => open({ ...bearer(u.accessToken), 'x-forwarded-for': '203.0.113.50' })));
    for (const c of [...crowd, ...pair, ...users]) await c.subscribe(id, true);
    // 1 (the first address) + 1 (the second) + 2 users.
    await subscriber.next((e) => e.type === 'viewer_count' && e.viewers === 4);
    expect((await h.app.inject({ method: 'GET', url: `/api/live/${id}` })).json().viewers).toBe(4);

    // The address counts until its last socket goes; a user until their last tab goes.
    const from = subscriber.events.length;
    for (const c of [...crowd.slice(1), users[0]!]) c.close();
    crowd[0]!.close();
    await subscriber.next((e) => e.type === 'viewer_count' && e.viewers === 3, from);
    expect((await h.app.inject({ method: 'GET', url: `/api/live/${id}` })).json().viewers).toBe(3);
    for (const c of [...pair, ...users]) c.close();
    await subscriber.next((e) => e.type === 'viewer_count' && e.viewers === 0, from);
  });

  it('throttles a burst of 20 joins within a second to at most 2 viewer_count pushes, the last one right', async () => {
    const id = await liveSession();
    const subscriber = await open();
    await subscriber.subscribe(id);
    const from = subscriber.events.length;
    const started = Date.now();
    const joiners = await Promise.all(Array.from({ length: 20 }, () => open()));
    await Promise.all(joiners.map((j) => j.subscribe(id, true)));
    expect(Date.now() - started).toBeLessThan(1000);
    await subscriber.next((e) => e.type === 'viewer_count' && e.viewers === 20, from);
    // Wait out one more throttle window: nothing else may arrive.
    await new Promise((r) => setTimeout(r, 1100));
    const pushed = viewerCounts(subscriber, id, from);
    expect(pushed.length).toBeLessThanOrEqual(2);
    expect(pushed.at(-1)).toBe(20);
    for (const j of joiners) j.close();
  });
});
