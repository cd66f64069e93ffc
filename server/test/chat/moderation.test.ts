import { sql } from '@podlive/db';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signUp } from '../accounts/harness';
import { createLive, startLive, until } from '../live/harness';
import { type Ack, api, block, chat, getChat, hostedLive, received } from './harness';
import { useAppWithSockets } from '../live/harness';

const t = useAppWithSockets();
const { open } = t;

/** A live with a host, a moderator, a chatter and a watching anonymous viewer. */
async function room() {
  const { host, sessionId } = await hostedLive(t.h.app);
  const [mod, user] = [await signUp(t.h.app), await signUp(t.h.app)];
  expect((await api(t.h.app, 'PUT', `/api/live/${sessionId}/moderators/${mod.id}`, host)).json()).toEqual({ userId: mod.id, moderator: true });
  const viewer = await open();
  await viewer.subscribe(sessionId);
  const userWs = await open(user);
  const said = (await chat(userWs, sessionId, `hello ${randomUUID()}`)) as Ack;
  expect(said.type).toBe('chat_ack');
  return { host, sessionId, mod, user, viewer, userWs, message: said.message };
}

describe('chat moderation', () => {
  it('pins and unpins (host or moderator), announced to the live and shown in history', async () => {
    const { host, mod, sessionId, viewer, message } = await room();
    const pinned = await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${message.id}/pin`, mod);
    expect(pinned.statusCode).toBe(200);
    expect(await viewer.next((e) => e.type === 'chat_pinned')).toEqual({ type: 'chat_pinned', sessionId, message });
    expect((await getChat(t.h.app, sessionId)).pinned).toEqual(message);
    const from = viewer.events.length;
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/pin`, host)).statusCode).toBe(204);
    expect(await viewer.next((e) => e.type === 'chat_pinned', from)).toEqual({ type: 'chat_pinned', sessionId, message: null });
    expect((await getChat(t.h.app, sessionId)).pinned).toBeNull();
  });

  it('deletes (soft) by a moderator or the author, unpinning a pinned message; others get 403', async () => {
    const { mod, sessionId, viewer, message, user, userWs } = await room();
    const stranger = await signUp(t.h.app);
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/${message.id}`, stranger)).json().error.code).toBe('NOT_AUTHOR_OR_MODERATOR');
    await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${message.id}/pin`, mod);
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/${message.id}`, mod)).statusCode).toBe(204);
    expect(await viewer.next((e) => e.type === 'chat_deleted')).toEqual({ type: 'chat_deleted', sessionId, messageId: message.id });
    await viewer.next((e) => e.type === 'chat_pinned' && e.message === null);
    const state = await getChat(t.h.app, sessionId);
    expect(state.messages.some((m) => m.id === message.id)).toBe(false);
    expect(state.pinned).toBeNull();
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/${message.id}`, mod)).json().error.code).toBe('CHAT_MESSAGE_NOT_FOUND');
    // The author deletes their own.
    const own = (await chat(userWs, sessionId, 'oops')) as Ack;
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/${own.message.id}`, user)).statusCode).toBe(204);
  });

  it('times out and bans (announced as chat_restricted, seen in the user’s own state), unbans', async () => {
    const { host, mod, sessionId, viewer, user } = await room();
    const timeout = await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/timeouts`, mod, { userId: user.id });
    expect(timeout.json()).toMatchObject({ userId: user.id, restriction: { kind: 'timeout', until: expect.any(String) } });
    const until5 = Date.parse(timeout.json().restriction.until) - Date.now();
    expect(until5).toBeGreaterThan(290_000);
    expect(until5).toBeLessThanOrEqual(300_000);
    expect(await viewer.next((e) => e.type === 'chat_restricted')).toMatchObject({ sessionId, userId: user.id, restriction: { kind: 'timeout' } });
    expect((await getChat(t.h.app, sessionId, user)).restriction).toMatchObject({ kind: 'timeout' });
    const from = viewer.events.length;
    expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/bans`, host, { userId: user.id })).json()).toEqual({ userId: user.id, restriction: { kind: 'ban', until: null } });
    await viewer.next((e) => e.type === 'chat_restricted' && e.restriction?.kind === 'ban', from);
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/bans/${user.id}`, mod)).json()).toEqual({ userId: user.id, restriction: null });
    await viewer.next((e) => e.type === 'chat_restricted' && e.restriction === null, from);
    expect((await getChat(t.h.app, sessionId, user)).restriction).toBeNull();
  });

  it('never restricts the host; moderators cannot restrict moderators; the host can', async () => {
    const { host, mod, sessionId } = await room();
    const mod2 = await signUp(t.h.app);
    await api(t.h.app, 'PUT', `/api/live/${sessionId}/moderators/${mod2.id}`, host);
    for (const path of ['timeouts', 'bans']) {
      expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${path}`, mod, { userId: host.id })).json().error.code).toBe('CANNOT_RESTRICT');
      expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${path}`, host, { userId: host.id })).json().error.code).toBe('CANNOT_RESTRICT');
      expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${path}`, mod, { userId: mod2.id })).statusCode).toBe(403);
    }
    expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/timeouts`, host, { userId: mod2.id })).statusCode).toBe(200);
  });

  it('moderator rights end with the live they were given for: no ban from an ended live reaches the host’s next one', async () => {
    const { host, mod, sessionId, user } = await room();
    expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/end`, host)).statusCode).toBe(200);
    const next = await createLive(t.h.app, host);
    await startLive(t.h.app, host, next);
    for (const path of ['timeouts', 'bans']) {
      expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${path}`, mod, { userId: user.id })).json().error.code).toBe('NOT_MODERATOR');
    }
    expect((await getChat(t.h.app, next, user)).restriction).toBeNull();
    expect((await getChat(t.h.app, sessionId, mod)).canModerate).toBe(false);
    // The host still can (their own chats), and the ban follows the user into the next live.
    expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/bans`, host, { userId: user.id })).statusCode).toBe(200);
    expect((await getChat(t.h.app, next, user)).restriction).toEqual({ kind: 'ban', until: null });
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/bans/${user.id}`, mod)).json().error.code).toBe('NOT_MODERATOR');
  });

  it('a banned or timed-out moderator has no moderator rights and never lifts their own restriction', async () => {
    const { host, mod, sessionId, user } = await room();
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/bans/${mod.id}`, mod)).json().error.code).toBe('CANNOT_UNRESTRICT_SELF');
    for (const kind of ['timeouts', 'bans']) {
      expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/${kind}`, host, { userId: mod.id })).statusCode).toBe(200);
      expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/bans/${mod.id}`, mod)).statusCode).toBe(403);
      expect((await getChat(t.h.app, sessionId, mod)).restriction).not.toBeNull();
      expect((await api(t.h.app, 'POST', `/api/live/${sessionId}/chat/bans`, mod, { userId: user.id })).json().error.code).toBe('NOT_MODERATOR');
      expect((await getChat(t.h.app, sessionId, mod)).canModerate).toBe(false);
      expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/bans/${mod.id}`, host)).statusCode).toBe(200);
    }
    // Lifted by the host: a moderator again.
    expect((await getChat(t.h.app, sessionId, mod)).canModerate).toBe(true);
  });

  it('refuses non-moderators (403), anonymous callers (401), unknown lives, messages and users (404), bad input (400)', async () => {
    const { sessionId, user, message } = await room();
    const codeOf = async (...args: Parameters<typeof api>) => {
      const response = await api(...args);
      return [response.statusCode, response.json().error?.code];
    };
    expect(await codeOf(t.h.app, 'POST', `/api/live/${sessionId}/chat/${message.id}/pin`, user)).toEqual([403, 'NOT_MODERATOR']);
    expect(await codeOf(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/pin`, user)).toEqual([403, 'NOT_MODERATOR']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${sessionId}/chat/bans`, user, { userId: user.id })).toEqual([403, 'NOT_MODERATOR']);
    expect(await codeOf(t.h.app, 'DELETE', `/api/live/${sessionId}/chat/bans/${user.id}`, user)).toEqual([403, 'NOT_MODERATOR']);
    expect(await codeOf(t.h.app, 'PUT', `/api/live/${sessionId}/moderators/${user.id}`, user)).toEqual([403, 'NOT_HOST']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${sessionId}/chat/timeouts`, null, { userId: user.id })).toEqual([401, 'UNAUTHENTICATED']);
    expect(await codeOf(t.h.app, 'GET', `/api/live/${randomUUID()}/chat`, null)).toEqual([404, 'LIVE_NOT_FOUND']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${randomUUID()}/chat/${message.id}/pin`, user)).toEqual([404, 'LIVE_NOT_FOUND']);
    const { host, sessionId: other } = await hostedLive(t.h.app);
    // A message of another live is not this live's.
    expect(await codeOf(t.h.app, 'POST', `/api/live/${other}/chat/${message.id}/pin`, host)).toEqual([404, 'CHAT_MESSAGE_NOT_FOUND']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${other}/chat/bans`, host, { userId: randomUUID() })).toEqual([404, 'USER_NOT_FOUND']);
    expect(await codeOf(t.h.app, 'PUT', `/api/live/${other}/moderators/${host.id}`, host)).toEqual([400, 'CANNOT_APPOINT']);
    expect(await codeOf(t.h.app, 'GET', '/api/live/not-a-uuid/chat', null)).toEqual([400, 'VALIDATION_FAILED']);
    expect(await codeOf(t.h.app, 'DELETE', `/api/live/${other}/chat/nope`, host)).toEqual([400, 'VALIDATION_FAILED']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${other}/chat/bans`, host, { userId: 'x' })).toEqual([400, 'VALIDATION_FAILED']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${other}/chat/bans`, host, { userId: user.id, extra: 1 })).toEqual([400, 'VALIDATION_FAILED']);
    expect(await codeOf(t.h.app, 'POST', `/api/live/${other}/chat/timeouts`, host)).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('appoints and dismisses moderators: told to the user and the live, reflected in canModerate', async () => {
    const { host, sessionId } = await hostedLive(t.h.app);
    const user = await signUp(t.h.app);
    const own = await open(user);
    own.send({ type: 'ping' });
    await own.next((e) => e.type === 'pong');
    const viewer = await open();
    await viewer.subscribe(sessionId);
    expect((await getChat(t.h.app, sessionId, user)).canModerate).toBe(false);
    expect((await getChat(t.h.app, sessionId, host)).canModerate).toBe(true);
    await api(t.h.app, 'PUT', `/api/live/${sessionId}/moderators/${user.id}`, host);
    const appointed = { type: 'chat_moderator', sessionId, userId: user.id, moderator: true };
    expect(await own.next((e) => e.type === 'chat_moderator')).toEqual(appointed);
    expect(await viewer.next((e) => e.type === 'chat_moderator')).toEqual(appointed);
    expect((await getChat(t.h.app, sessionId, user)).canModerate).toBe(true);
    const from = own.events.length;
    expect((await api(t.h.app, 'DELETE', `/api/live/${sessionId}/moderators/${user.id}`, host)).statusCode).toBe(200);
    expect(await own.next((e) => e.type === 'chat_moderator', from)).toEqual({ ...appointed, moderator: false });
    expect((await getChat(t.h.app, sessionId, user)).canModerate).toBe(false);
  });
});

describe('blocks and chat', () => {
  it('hides a blocked author from delivery and history, on connections opened before and after the block', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const [reader, troll, friend] = [await signUp(t.h.app), await signUp(t.h.app), await signUp(t.h.app)];
    const trollWs = await open(troll);
    expect(await chat(trollWs, sessionId, 'before the block')).toMatchObject({ type: 'chat_ack' });
    const early = await open(reader);
    await early.subscribe(sessionId);
    await block(t.h.app, t.h.testDb, reader, troll);
    const late = await open(reader);
    await late.subscribe(sessionId);
    // The early connection's reload runs in its queue: a ping round trip shows it ran.
    early.send({ type: 'ping' });
    await early.next((e) => e.type === 'pong');
    const friendWs = await open(friend);
    expect(await chat(trollWs, sessionId, 'you cannot see me')).toMatchObject({ type: 'chat_ack' });
    expect(await chat(friendWs, sessionId, 'you can see me')).toMatchObject({ type: 'chat_ack' });
    for (const c of [early, late]) {
      await until(() => (received(c, sessionId).length > 0 ? true : undefined), 'a chat message');
      expect(received(c, sessionId).map((m) => m.body)).toEqual(['you can see me']);
    }
    expect((await getChat(t.h.app, sessionId, reader)).messages.map((m) => m.body)).toEqual(['you can see me']);
    expect((await getChat(t.h.app, sessionId)).messages.map((m) => m.body)).toEqual(['before the block', 'you cannot see me', 'you can see me']);
    // Unblocked: delivered again.
    await t.h.testDb.db.execute(sql`delete from blocks where blocker_id = ${reader.id}`);
    await t.h.app.liveEvents.blocksChanged(reader.id);
    early.send({ type: 'ping' });
    await early.next((e) => e.type === 'pong');
    expect(await chat(trollWs, sessionId, 'back again')).toMatchObject({ type: 'chat_ack' });
    await early.next((e) => e.type === 'chat_message' && e.message.body === 'back again');
  });
});
