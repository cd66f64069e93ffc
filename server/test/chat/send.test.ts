import { queryRows, sql } from '@podlive/db';
import { CHAT_HISTORY_LIMIT } from '@podlive/shared/chat';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, post, signUp } from '../accounts/harness';
import { createLive, until } from '../live/harness';
import { api, block, chat, getChat, hostedLive, received, storedBy } from './harness';
import { useAppWithSockets } from '../live/harness';

const t = useAppWithSockets();
const { open } = t;

describe('chat_send', () => {
  it('stores, acks the sender and delivers to everyone subscribed, in the order stored', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const [alice, bob] = [await signUp(t.h.app), await signUp(t.h.app)];
    const [a, b, viewer] = [await open(alice), await open(bob), await open()];
    for (const c of [a, b, viewer]) await c.subscribe(sessionId, true);

    // Interleaved and concurrent: each connection handles its own messages one at a time.
    const answers = await Promise.all([chat(a, sessionId, 'a1'), chat(b, sessionId, 'b1'), chat(a, sessionId, 'a2'), chat(b, sessionId, 'b2')]);
    expect(answers.map((x) => x.type)).toEqual(['chat_ack', 'chat_ack', 'chat_ack', 'chat_ack']);
    const ack = answers[0];
    expect(ack).toMatchObject({ type: 'chat_ack', sessionId, message: { body: 'a1', sessionId, author: { id: alice.id, handle: alice.handle } } });

    const stored = await queryRows<{ id: string }>(t.h.testDb.db, sql`select id from chat_messages where session_id = ${sessionId} order by created_at, id`);
    expect(stored).toHaveLength(4);
    for (const c of [a, b, viewer]) {
      await until(() => (received(c, sessionId).length === 4 ? true : undefined), '4 chat messages');
      expect(received(c, sessionId).map((m) => m.id)).toEqual(stored.map((r) => r.id));
    }
    // Each author's own messages keep their order too.
    expect(received(viewer, sessionId).filter((m) => m.author.id === alice.id).map((m) => m.body)).toEqual(['a1', 'a2']);
  });

  it('shows the last 100 messages on join, oldest first, with what came over /ws', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const talker = await signUp(t.h.app);
    await t.h.testDb.db.execute(sql`
      insert into chat_messages (session_id, user_id, body, created_at)
      select ${sessionId}, ${talker.id}, 'old ' || n, now() - make_interval(secs => 1000 - n) from generate_series(1, 104) n`);
    await t.h.testDb.db.execute(sql`update chat_messages set deleted_at = now() where session_id = ${sessionId} and body = 'old 104'`);
    const c = await open(talker);
    expect(await chat(c, sessionId, 'newest')).toMatchObject({ type: 'chat_ack' });

    const state = await getChat(t.h.app, sessionId);
    expect(state.messages).toHaveLength(CHAT_HISTORY_LIMIT);
    expect(state.messages.map((m) => m.body)).toEqual([...Array.from({ length: 99 }, (_, i) => `old ${i + 5}`), 'newest']);
    expect(state).toMatchObject({ pinned: null, canModerate: false, restriction: null });
  });

  it('answers a resend of the same clientId with the stored message, storing and publishing nothing', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const [sender, other] = [await open(user), await open()];
    await other.subscribe(sessionId);
    const clientId = randomUUID();
    const first = await chat(sender, sessionId, 'only once', clientId);
    const again = await chat(sender, sessionId, 'only once', clientId);
    expect(first.type).toBe('chat_ack');
    expect(again).toEqual(first);
    await other.next((e) => e.type === 'chat_message');
    // A later message proves the resend would have arrived before it.
    expect(await chat(sender, sessionId, 'after')).toMatchObject({ type: 'chat_ack' });
    await until(() => (received(other, sessionId).length === 2 ? true : undefined), 'the second message');
    expect(received(other, sessionId).map((m) => m.body)).toEqual(['only once', 'after']);
    expect(await storedBy(t.h.testDb, user.id)).toBe(2);
  });
});

describe('chat_send refusals (nothing stored)', () => {
  it('UNAUTHENTICATED for an anonymous connection', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const before = (await getChat(t.h.app, sessionId)).messages.length;
    expect(await chat(await open(), sessionId, 'hi')).toMatchObject({ type: 'chat_refused', code: 'UNAUTHENTICATED' });
    expect((await getChat(t.h.app, sessionId)).messages.length).toBe(before);
  });

  it('CHAT_CLOSED before the live starts, after it ends, and for an unknown live', async () => {
    const host = await signUp(t.h.app);
    const user = await signUp(t.h.app);
    const c = await open(user);
    const scheduled = await createLive(t.h.app, host);
    expect(await chat(c, scheduled, 'early')).toMatchObject({ code: 'CHAT_CLOSED' });
    const { host: other, sessionId: ended } = await hostedLive(t.h.app);
    expect((await post(t.h.app, `/api/live/${ended}/end`, {}, bearer(other.accessToken))).statusCode).toBe(200);
    expect(await chat(c, ended, 'late')).toMatchObject({ code: 'CHAT_CLOSED' });
    expect(await chat(c, randomUUID(), 'nowhere')).toMatchObject({ code: 'CHAT_CLOSED' });
    expect(await storedBy(t.h.testDb, user.id)).toBe(0);
  });

  it('CHAT_RATE_LIMITED past a burst of 3, with retryAfterSec', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const c = await open(user);
    for (const n of [1, 2, 3]) expect(await chat(c, sessionId, `burst ${n}`)).toMatchObject({ type: 'chat_ack' });
    const refused = await chat(c, sessionId, 'burst 4');
    expect(refused).toMatchObject({ type: 'chat_refused', code: 'CHAT_RATE_LIMITED' });
    expect((refused as { retryAfterSec?: number }).retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(await storedBy(t.h.testDb, user.id)).toBe(3);
  });

  it('CHAT_DUPLICATE for the same text (after normalisation) within 30 s', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const c = await open(user);
    expect(await chat(c, sessionId, 'same thing')).toMatchObject({ type: 'chat_ack' });
    expect(await chat(c, sessionId, '  same\u200B thing ')).toMatchObject({ type: 'chat_refused', code: 'CHAT_DUPLICATE' });
    expect(await storedBy(t.h.testDb, user.id)).toBe(1);
  });

  it('CHAT_TIMED_OUT (with retryAfterSec) and CHAT_BANNED, enforced in every live of the host', async () => {
    const { host, sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const c = await open(user);
    expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/timeouts`, host, { userId: user.id })).statusCode).toBe(200);
    const timedOut = await chat(c, sessionId, 'let me talk');
    expect(timedOut).toMatchObject({ code: 'CHAT_TIMED_OUT' });
    expect((timedOut as { retryAfterSec?: number }).retryAfterSec).toBeGreaterThan(290);
    expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/bans`, host, { userId: user.id })).statusCode).toBe(200);
    expect(await chat(c, sessionId, 'please')).toMatchObject({ code: 'CHAT_BANNED' });
    // The host's next live: still banned.
    expect((await post(t.h.app, `/api/live/${sessionId}/end`, {}, bearer(host.accessToken))).statusCode).toBe(200);
    const next = await createLive(t.h.app, host);
    expect((await post(t.h.app, `/api/live/${next}/start`, {}, bearer(host.accessToken))).statusCode).toBe(200);
    expect(await chat(c, next, 'new live?')).toMatchObject({ code: 'CHAT_BANNED' });
    expect(await storedBy(t.h.testDb, user.id)).toBe(0);
    // Unbanned: both lifted.
    expect((await api(t.h.app, 'DELETE', `/api/live/${next}/chat/bans/${user.id}`, host)).json()).toEqual({ userId: user.id, restriction: null });
    expect(await chat(c, next, 'thanks')).toMatchObject({ type: 'chat_ack' });
  });

  it('CHAT_BLOCKED when the host blocked the author', async () => {
    const { host, sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    await block(t.h.app, t.h.testDb, host, user);
    expect(await chat(await open(user), sessionId, 'hello?')).toMatchObject({ code: 'CHAT_BLOCKED' });
    expect(await storedBy(t.h.testDb, user.id)).toBe(0);
  });
});

describe('hostile chat input', () => {
  it('stores markup as text and returns it verbatim as JSON text', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const c = await open(user);
    const xss = '<script>alert("x")</script><img src=x onerror=alert(1)>';
    expect(await chat(c, sessionId, xss)).toMatchObject({ type: 'chat_ack', message: { body: xss } });
    const response = await api(t.h.app, 'GET', `/api/live/${sessionId}/chat`, null);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json().messages.at(-1).body).toBe(xss);
  });

  it('refuses 501 characters, control characters and invisible-only text as CHAT_INVALID; strips bidi overrides', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const c = await open(user);
    expect(await chat(c, sessionId, 'é'.repeat(501))).toMatchObject({ code: 'CHAT_INVALID', message: 'Messages are at most 500 characters' });
    expect(await chat(c, sessionId, 'line\nbreak')).toMatchObject({ code: 'CHAT_INVALID', message: expect.stringMatching(/control characters/) });
    expect(await chat(c, sessionId, 'bell\u0007')).toMatchObject({ code: 'CHAT_INVALID' });
    expect(await chat(c, sessionId, '\u200B\u200C\uFEFF\u2060')).toMatchObject({ code: 'CHAT_INVALID', message: 'Write something first' });
    expect(await storedBy(t.h.testDb, user.id)).toBe(0);
    // 500 code points made of astral characters (1000 UTF-16 units) are fine.
    expect(await chat(c, sessionId, '😀'.repeat(500))).toMatchObject({ type: 'chat_ack' });
    const bidi = await chat(c, sessionId, 'abc\u202Edcba\u202C \u2066x\u2069');
    expect(bidi).toMatchObject({ type: 'chat_ack', message: { body: 'abcdcba x' } });
  });

  it('answers a malformed chat_send with INVALID_MESSAGE and keeps the connection', async () => {
    const user = await signUp(t.h.app);
    const c = await open(user);
    c.send({ type: 'chat_send', sessionId: 'nope', clientId: randomUUID(), body: 'x' });
    expect(await c.next((e) => e.type === 'error')).toMatchObject({ code: 'INVALID_MESSAGE' });
    c.send({ type: 'ping' });
    await c.next((e) => e.type === 'pong');
  });
});
