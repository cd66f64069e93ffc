import { eq, users } from '@podlive/db';
import { describe, expect, it } from 'vitest';
import { chat, hostedLive } from '../chat/harness';
import { createLive, useAppWithSockets } from '../live/harness';
import { bearer, countRows, post, signUp, type Account } from './harness';

const t = useAppWithSockets();
const liveBody = { title: 'My first live', category: 'Music' };
const codeOf = (response: { statusCode: number; json(): unknown }) => [response.statusCode, (response.json() as { error?: { code: string } }).error?.code];

async function verify(account: Account): Promise<void> {
  const code = t.h.mailer.lastCode(account.email);
  expect((await post(t.h.app, '/api/auth/verify-otp', { email: account.email, code, purpose: 'verify_email' })).statusCode).toBe(200);
}

describe('a verified email is needed to go live, chat and go on stage; watching stays open', () => {
  it('going live: create is 403 EMAIL_NOT_VERIFIED (nothing stored) until the email is verified', async () => {
    const host = await signUp(t.h.app, { verified: false });
    const lives = await countRows(t.h.testDb, 'live_sessions');
    expect(codeOf(await post(t.h.app, '/api/live/create', liveBody, bearer(host.accessToken)))).toEqual([403, 'EMAIL_NOT_VERIFIED']);
    expect(await countRows(t.h.testDb, 'live_sessions')).toBe(lives);
    await verify(host);
    expect((await post(t.h.app, '/api/live/create', liveBody, bearer(host.accessToken))).statusCode).toBe(201);
  });

  it('going live: start is refused too for an account whose email is not verified', async () => {
    const host = await signUp(t.h.app);
    const id = await createLive(t.h.app, host);
    await t.h.testDb.db.update(users).set({ emailVerified: false }).where(eq(users.id, host.id));
    expect(codeOf(await post(t.h.app, `/api/live/${id}/start`, {}, bearer(host.accessToken)))).toEqual([403, 'EMAIL_NOT_VERIFIED']);
  });

  it('chat: an unverified viewer watches and reads, but chat_send is refused with EMAIL_NOT_VERIFIED', async () => {
    const { sessionId } = await hostedLive(t.h.app);
    const viewer = await signUp(t.h.app, { verified: false });
    const socket = await t.open(viewer);
    await socket.subscribe(sessionId, true);
    expect(await chat(socket, sessionId, 'hello')).toMatchObject({ type: 'chat_refused', code: 'EMAIL_NOT_VERIFIED' });
    expect((await t.h.app.inject({ method: 'GET', url: `/api/live/${sessionId}/chat`, headers: bearer(viewer.accessToken) })).statusCode).toBe(200);
    await verify(viewer);
    expect(await chat(socket, sessionId, 'hello')).toMatchObject({ type: 'chat_ack' });
  });

  it('stage: inviting an unverified viewer is 409 INVITEE_NOT_VERIFIED, and nothing is stored', async () => {
    const { host, sessionId } = await hostedLive(t.h.app);
    const viewer = await signUp(t.h.app, { verified: false });
    const invites = await countRows(t.h.testDb, 'stage_invites');
    const response = await post(t.h.app, '/api/stage/invite', { sessionId, handle: viewer.handle }, bearer(host.accessToken));
    expect(codeOf(response)).toEqual([409, 'INVITEE_NOT_VERIFIED']);
    expect(await countRows(t.h.testDb, 'stage_invites')).toBe(invites);
  });
});
