import { queryRows, sql } from '@podlive/db';
import { createTestDb, type TestDb } from '@podlive/db/testing';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, signUp, type Account } from '../accounts/harness';
import { openWs, until, type WsClient } from '../live/harness';
import { block, chat, hostedLive, received } from './harness';
import { Fleet } from './replica';

let testDb: TestDb;
let fleet: Fleet;
let a: FastifyInstance;
let b: FastifyInstance;
const clients: WsClient[] = [];
const open = async (app: FastifyInstance, as?: Account) => {
  const client = await openWs(app, as === undefined ? {} : bearer(as.accessToken));
  clients.push(client);
  return client;
};

beforeAll(async () => {
  testDb = await createTestDb('postgres');
  fleet = new Fleet(testDb);
  a = await fleet.replica();
  b = await fleet.replica();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await fleet.close();
  await testDb.close();
});

describe('chat across two replicas sharing Redis', () => {
  it('delivers every message to viewers on both replicas, all in the stored order', async () => {
    const { sessionId } = await hostedLive(a);
    const senders = await Promise.all([signUp(a), signUp(a), signUp(b), signUp(b)]);
    const sendWs = await Promise.all(senders.map((s, i) => open(i < 2 ? a : b, s)));
    const viewers = [await open(a), await open(b), await open(b)];
    for (const v of viewers) await v.subscribe(sessionId, true);

    // Three rounds of four concurrent sends, two from each replica: order is decided by the
    // per-live lock, not by which replica publishes first.
    for (const round of [1, 2, 3]) {
      const answers = await Promise.all(sendWs.map((ws, i) => chat(ws, sessionId, `r${round} s${i}`)));
      expect(answers.every((x) => x.type === 'chat_ack')).toBe(true);
    }
    const stored = await queryRows<{ id: string }>(testDb.db, sql`select id from chat_messages where session_id = ${sessionId} order by created_at, id`);
    expect(stored).toHaveLength(12);
    for (const v of viewers) {
      await until(() => (received(v, sessionId).length === 12 ? true : undefined), '12 messages');
      expect(received(v, sessionId).map((m) => m.id)).toEqual(stored.map((r) => r.id));
    }
  });

  it('counts a user’s rate and duplicates once across replicas, and filters blocks on the other replica', async () => {
    const { sessionId } = await hostedLive(a);
    const [user, reader] = [await signUp(a), await signUp(a)];
    const [onA, onB] = [await open(a, user), await open(b, user)];
    expect(await chat(onA, sessionId, 'one')).toMatchObject({ type: 'chat_ack' });
    expect(await chat(onB, sessionId, 'one')).toMatchObject({ code: 'CHAT_DUPLICATE' });
    // The refused duplicate still counted against the rate (a flood of duplicates is a flood): 3 of 3.
    expect(await chat(onB, sessionId, 'two')).toMatchObject({ type: 'chat_ack' });
    expect(await chat(onA, sessionId, 'three')).toMatchObject({ code: 'CHAT_RATE_LIMITED' });

    const readerWs = await open(b, reader);
    await readerWs.subscribe(sessionId);
    // Blocked through replica A's bus: the connection on B reloads its blocks.
    await block(a, testDb, reader, user);
    readerWs.send({ type: 'ping' });
    await readerWs.next((e) => e.type === 'pong');
    const other = await open(a, await signUp(a));
    // The one-per-second window passes (the burst stays spent).
    await new Promise((r) => setTimeout(r, 1100));
    expect(await chat(onA, sessionId, 'hidden')).toMatchObject({ type: 'chat_ack' });
    expect(await chat(other, sessionId, 'shown')).toMatchObject({ type: 'chat_ack' });
    await readerWs.next((e) => e.type === 'chat_message' && e.message.body === 'shown');
    expect(received(readerWs, sessionId).map((m) => m.body)).toEqual(['shown']);
  });
});
