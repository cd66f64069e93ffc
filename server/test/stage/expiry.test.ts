import { queryRows, sql } from '@podlive/db';
import type { TestDb } from '@podlive/db/testing';
import type { MediaNode } from '@podlive/sfu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp } from '../accounts/harness';
import { createLive, startLive, startNode } from '../live/harness';
import { answer, codeOf, invite, newDb, nextOf, openUserWs, stageApp, watch } from './harness';

const TTL_MS = 300;
let node: MediaNode;
let testDb: TestDb;
const closers: Array<() => unknown> = [];
beforeAll(async () => {
  node = await startNode();
  testDb = await newDb();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await testDb.close();
  await node.close();
});

const statusOf = async (id: string) =>
  (await queryRows<{ status: string }>(testDb.db, sql`select status from stage_invites where id = ${id}`))[0]?.status;

describe('stage invite expiry', () => {
  it('expires an unanswered invite: both sides are told, a late accept is 409 INVITE_EXPIRED', async () => {
    const { app, close } = await stageApp(testDb, node, { inviteTtlMs: TTL_MS });
    // Closed at the end of this test, not the file's: its sweeper, left running on the shared
    // database, would expire the next test's invite and announce it on this app's bus.
    const mine: Array<() => unknown> = [];
    try {
      const host = await signUp(app);
      const viewer = await signUp(app);
      const sessionId = await createLive(app, host);
      await startLive(app, host, sessionId);
      mine.push((await watch(app, node, viewer, sessionId)).close);
      const [tab, studio] = await Promise.all([openUserWs(app, viewer), openUserWs(app, host)]);
      mine.push(tab.close, studio.close);
      const sentAt = Date.now();
      const id = (await invite(app, host, sessionId, viewer.handle)).json().invite.id as string;
      for (const client of [tab, studio]) expect(await nextOf(client, 'stage_invite_expired')).toMatchObject({ inviteId: id, sessionId, userId: viewer.id });
      const elapsed = Date.now() - sentAt;
      expect(elapsed).toBeGreaterThanOrEqual(TTL_MS - 20);
      expect(elapsed).toBeLessThan(TTL_MS + 1000);
      expect(await statusOf(id)).toBe('expired');
      expect(codeOf(await answer(app, viewer, id, 'accept'))).toEqual([409, 'INVITE_EXPIRED']);
      // Exactly one expiry event per side, although the timer and the sweeper both watched it.
      expect(studio.events.filter((e) => e.type === 'stage_invite_expired')).toHaveLength(1);
      // Expired, they can be called again.
      expect((await invite(app, host, sessionId, viewer.handle)).statusCode).toBe(201);
    } finally {
      for (const done of mine.reverse()) await done();
      await close();
    }
  });

  it('still expires an invite left pending by a server that stopped (restart on the same database)', async () => {
    // Long enough to restart and reconnect before the deadline, so the new server is seen expiring it.
    const first = await stageApp(testDb, node, { inviteTtlMs: 2500 });
    const host = await signUp(first.app);
    const viewer = await signUp(first.app);
    const sessionId = await createLive(first.app, host);
    await startLive(first.app, host, sessionId);
    const peer = await watch(first.app, node, viewer, sessionId);
    closers.push(peer.close);
    const id = (await invite(first.app, host, sessionId, viewer.handle)).json().invite.id as string;
    await first.close();
    expect(await statusOf(id)).toBe('pending');

    const second = await stageApp(testDb, node, { inviteTtlMs: 2500 });
    closers.push(second.close);
    const studio = await openUserWs(second.app, host);
    closers.push(studio.close);
    // The connection handles messages in order after joining the user's channel: a pong means joined.
    studio.send({ type: 'ping' });
    await studio.next((e) => e.type === 'pong');
    expect(await statusOf(id)).toBe('pending');
    // No timer for it on this server: its sweeper expires it at the deadline (waiting for it is the point).
    expect((await nextOf(studio, 'stage_invite_expired')).inviteId).toBe(id);
    expect(await statusOf(id)).toBe('expired');
  });

  it('keeps the stage list across a restart (rebuilt from Postgres)', async () => {
    const first = await stageApp(testDb, node, { inviteTtlMs: 10_000 });
    const host = await signUp(first.app);
    const viewer = await signUp(first.app);
    const sessionId = await createLive(first.app, host);
    await startLive(first.app, host, sessionId);
    closers.push((await watch(first.app, node, viewer, sessionId)).close);
    const id = (await invite(first.app, host, sessionId, viewer.handle)).json().invite.id as string;
    expect((await answer(first.app, viewer, id, 'accept')).statusCode).toBe(200);
    await first.close();
    const second = await stageApp(testDb, node);
    closers.push(second.close);
    const guests = await second.app.inject({ method: 'GET', url: `/api/stage/${sessionId}/guests` });
    expect(guests.json()).toMatchObject([{ id: viewer.id, muted: false }]);
    expect(codeOf(await invite(second.app, host, sessionId, viewer.handle))).toEqual([409, 'ALREADY_ON_STAGE']);
  });
});
