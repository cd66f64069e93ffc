import { queryRows, sql } from '@podlive/db';
import type { StageAcceptResponse, StageInvite } from '@podlive/shared/stage';
import { verifyMediaToken } from '@podlive/shared/tokens';
import { describe, expect, it } from 'vitest';
import { bearer, post, signUp } from '../accounts/harness';
import { createLive, startLive } from '../live/harness';
import { answer, codeOf, invite, KEYS, nextOf, NODE_ID, openUserWs, watch, stageSuite } from './harness';

const suite = stageSuite({ maxGuests: 1, inviteTtlMs: 10_000 });

/** A host live now and a viewer watching it on the suite.node. */
async function liveWithViewer() {
  const host = await signUp(suite.app, { displayName: 'The Host' });
  const viewer = await signUp(suite.app, { displayName: 'Vera Viewer' });
  const sessionId = await createLive(suite.app, host);
  await startLive(suite.app, host, sessionId);
  suite.closers.push((await watch(suite.app, suite.node, viewer, sessionId)).close);
  return { host, viewer, sessionId };
}

describe('stage invite: refusals', () => {
  it('refuses each bad invite with its code and stores nothing', async () => {
    const { host, viewer, sessionId } = await liveWithViewer();
    const stranger = await signUp(suite.app);
    expect(codeOf(await invite(suite.app, viewer, sessionId, host.handle))).toEqual([403, 'NOT_HOST']);
    expect(codeOf(await invite(suite.app, host, sessionId, 'nobody_like_this'))).toEqual([404, 'USER_NOT_FOUND']);
    expect(codeOf(await invite(suite.app, host, sessionId, host.handle))).toEqual([400, 'CANNOT_INVITE_SELF']);
    expect(codeOf(await invite(suite.app, host, sessionId, stranger.handle))).toEqual([409, 'NOT_WATCHING']);
    const blocker = await signUp(suite.app);
    suite.closers.push((await watch(suite.app, suite.node, blocker, sessionId)).close);
    await suite.testDb.db.execute(sql`insert into blocks (blocker_id, blocked_id) values (${blocker.id}, ${host.id})`);
    const blocked = await invite(suite.app, host, sessionId, blocker.handle);
    expect(codeOf(blocked)).toEqual([403, 'BLOCKED']);
    expect(blocked.json().error.message).toBe('You cannot invite this person');
    const [rows] = await queryRows<{ n: number }>(suite.testDb.db, sql`select count(*)::int as n from stage_invites where session_id = ${sessionId}`);
    expect(rows?.n).toBe(0);
  });

  it('refuses a live that is not live (409), a ringing invite (INVITE_PENDING, also under a race) and a full stage', async () => {
    const { host, viewer, sessionId } = await liveWithViewer();
    const other = await signUp(suite.app);
    const ownScheduled = await createLive(suite.app, other);
    expect(codeOf(await invite(suite.app, other, ownScheduled, viewer.handle))).toEqual([409, 'LIVE_NOT_STARTED']);

    const race = await Promise.all([invite(suite.app, host, sessionId, viewer.handle), invite(suite.app, host, sessionId, viewer.handle), invite(suite.app, host, sessionId, viewer.handle)]);
    expect(race.map((r) => r.statusCode).sort()).toEqual([201, 409, 409]);
    expect(race.filter((r) => r.statusCode === 409).map((r) => codeOf(r)[1])).toEqual(['INVITE_PENDING', 'INVITE_PENDING']);

    const pending = race.find((r) => r.statusCode === 201)?.json().invite as StageInvite;
    expect((await answer(suite.app, viewer, pending.id, 'accept')).statusCode).toBe(200);
    expect(codeOf(await invite(suite.app, host, sessionId, viewer.handle))).toEqual([409, 'ALREADY_ON_STAGE']);
    const second = await signUp(suite.app);
    suite.closers.push((await watch(suite.app, suite.node, second, sessionId)).close);
    expect(codeOf(await invite(suite.app, host, sessionId, second.handle))).toEqual([409, 'STAGE_FULL']);

    expect((await post(suite.app, `/api/live/${sessionId}/end`, {}, bearer(host.accessToken))).statusCode).toBe(200);
    expect(codeOf(await invite(suite.app, host, sessionId, second.handle))).toEqual([409, 'LIVE_ENDED']);
  });
});

describe('stage invite: ringing and answering', () => {
  it('rings both tabs of the invitee, tells the host, and an accept gives a guest grant for the suite.node', async () => {
    const { host, viewer, sessionId } = await liveWithViewer();
    const [tab1, tab2, studio] = await Promise.all([openUserWs(suite.app, viewer), openUserWs(suite.app, viewer), openUserWs(suite.app, host)]);
    suite.closers.push(tab1.close, tab2.close, studio.close);
    await studio.subscribe(sessionId);
    const sent = await invite(suite.app, host, sessionId, `@${viewer.handle.toUpperCase()}`);
    expect(sent.statusCode).toBe(201);
    const created = sent.json().invite as StageInvite;
    expect(created).toMatchObject({ sessionId, status: 'pending', sessionTitle: 'My show', host: { id: host.id, displayName: 'The Host' }, invitee: { id: viewer.id } });
    for (const tab of [tab1, tab2]) expect((await nextOf(tab, 'stage_invite')).invite).toEqual(created);
    expect((await nextOf(studio, 'stage_invite_sent')).invite.id).toBe(created.id);
    const [row] = await queryRows<{ node_id: string }>(suite.testDb.db, sql`select node_id from stage_invites where id = ${created.id}`);
    expect(row?.node_id).toBe(NODE_ID);

    const stranger = await signUp(suite.app);
    expect(codeOf(await answer(suite.app, stranger, created.id, 'accept'))).toEqual([403, 'NOT_INVITEE']);
    const accepted = await answer(suite.app, viewer, created.id, 'accept');
    expect(accepted.statusCode).toBe(200);
    const body = accepted.json() as StageAcceptResponse;
    expect(body.invite.status).toBe('accepted');
    expect(body.grant.nodeId).toBe(NODE_ID);
    const claims = await verifyMediaToken(KEYS.publicKey, body.grant.token, NODE_ID);
    expect(claims).toMatchObject({ sid: sessionId, sub: viewer.id, role: 'guest', node: NODE_ID, name: 'Vera Viewer' });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    for (const tab of [tab1, tab2, studio]) expect((await nextOf(tab, 'stage_invite_accepted')).inviteId).toBe(created.id);
    expect((await nextOf(studio, 'stage_guest_joined')).guest).toMatchObject({ id: viewer.id, muted: false });
    const guests = await suite.app.inject({ method: 'GET', url: `/api/stage/${sessionId}/guests` });
    expect(guests.json()).toMatchObject([{ id: viewer.id, handle: viewer.handle, muted: false }]);
    expect(codeOf(await answer(suite.app, viewer, created.id, 'accept'))).toEqual([409, 'INVITE_ANSWERED']);
    await post(suite.app, `/api/live/${sessionId}/end`, {}, bearer(host.accessToken));
    expect((await nextOf(studio, 'stage_guest_left')).reason).toBe('ended');
    expect((await suite.app.inject({ method: 'GET', url: `/api/stage/${sessionId}/guests` })).json()).toEqual([]);
  });

  it('a decline tells the host and the invitee’s tabs; a second answer is 409 INVITE_ANSWERED', async () => {
    const { host, viewer, sessionId } = await liveWithViewer();
    const [tab, studio] = await Promise.all([openUserWs(suite.app, viewer), openUserWs(suite.app, host)]);
    suite.closers.push(tab.close, studio.close);
    const id = (await invite(suite.app, host, sessionId, viewer.handle)).json().invite.id as string;
    const rejected = await answer(suite.app, viewer, id, 'reject', { reason: 'permission_denied' });
    expect(rejected.statusCode).toBe(200);
    expect(rejected.json().invite.status).toBe('rejected');
    for (const client of [studio, tab]) expect(await nextOf(client, 'stage_invite_rejected')).toMatchObject({ inviteId: id, userId: viewer.id, reason: 'permission_denied' });
    expect(codeOf(await answer(suite.app, viewer, id, 'reject'))).toEqual([409, 'INVITE_ANSWERED']);
    expect(codeOf(await answer(suite.app, viewer, id, 'accept'))).toEqual([409, 'INVITE_ANSWERED']);
    // Declined, they can be called again.
    expect((await invite(suite.app, host, sessionId, viewer.handle)).statusCode).toBe(201);
    await post(suite.app, `/api/live/${sessionId}/end`, {}, bearer(host.accessToken));
    expect((await nextOf(tab, 'stage_invite_expired')).userId).toBe(viewer.id);
  });
});
