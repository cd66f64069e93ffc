import type { StageAcceptResponse } from '@podlive/shared/stage';
import { forgedTokens, testKeyPair } from '@podlive/shared/testing/keys';
import { MEDIA_TOKEN_AUDIENCE, signControlToken, signMediaToken } from '@podlive/shared/tokens';
import type protooClient from 'protoo-client';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, post, signUp, type Account } from '../accounts/harness';
import { createLive, startLive } from '../live/harness';
import { answer, codeOf, invite, KEYS, mediaPeer, nextOf, NODE_ID, openUserWs, peersOnNode, produceAudio, stageSuite } from './harness';

const suite = stageSuite();

/** A started live whose host's /ws follows it, and `guest` watching it over protoo (not invited yet). */
async function liveWithViewer() {
  const host = await signUp(suite.app);
  const guest = await signUp(suite.app);
  const sessionId = await createLive(suite.app, host);
  await startLive(suite.app, host, sessionId);
  const peer = await mediaPeer(suite.app, guest, sessionId);
  suite.closers.push(() => peer.close());
  const studio = await openUserWs(suite.app, host);
  suite.closers.push(studio.close);
  await studio.subscribe(sessionId);
  return { host, guest, sessionId, peer, studio };
}

/** The host invites `guest` and the guest accepts: the grant, not redeemed yet. */
async function accepted(host: Account, guest: Account, sessionId: string): Promise<StageAcceptResponse> {
  const sent = await invite(suite.app, host, sessionId, guest.handle);
  expect(sent.statusCode).toBe(201);
  const response = await answer(suite.app, guest, sent.json().invite.id as string, 'accept');
  expect(response.statusCode).toBe(200);
  return response.json() as StageAcceptResponse;
}

const remove = (host: Account, userId: string, sessionId: string) =>
  suite.app.inject({ method: 'DELETE', url: `/api/stage/guest/${userId}?sessionId=${sessionId}`, headers: bearer(host.accessToken) });
const upgrade = (peer: protooClient.Peer, token: string) => peer.request('upgradeToGuest', { token }) as Promise<unknown>;
const refusal = (request: Promise<unknown>) => request.then(() => 'accepted', (err: { code?: number; message: string }) => `${err.code}: ${err.message}`);
const onNode = async (sessionId: string, userId: string) => (await peersOnNode(suite.node, sessionId)).filter((p) => p.userId === userId);

describe('taking a guest off the stage reaches the node, whatever state the call is in', () => {
  it('a guest who accepted and left before redeeming cannot redeem the grant', async () => {
    const { host, guest, sessionId, peer } = await liveWithViewer();
    const { grant } = await accepted(host, guest, sessionId);
    expect((await post(suite.app, '/api/stage/leave', { sessionId }, bearer(guest.accessToken))).statusCode).toBe(204);
    expect(await refusal(upgrade(peer, grant.token))).toMatch(/^403: guest grant refused/);
    expect(await onNode(sessionId, guest.id)).toMatchObject([{ role: 'viewer', producers: [] }]);
  });

  it('a guest the host removed after they accepted, before they redeemed, cannot redeem the grant', async () => {
    const { host, guest, sessionId, peer, studio } = await liveWithViewer();
    const { grant } = await accepted(host, guest, sessionId);
    expect((await remove(host, guest.id, sessionId)).statusCode).toBe(204);
    expect(await nextOf(studio, 'stage_guest_left')).toMatchObject({ userId: guest.id, reason: 'removed' });
    expect(await refusal(upgrade(peer, grant.token))).toMatch(/^403: guest grant refused/);
    expect(await onNode(sessionId, guest.id)).toMatchObject([{ role: 'viewer', producers: [] }]);
  });

  it('the host removes a ringing invitee: the invite is withdrawn (both told) and can no longer be accepted', async () => {
    const { host, guest, sessionId } = await liveWithViewer();
    const guestWs = await openUserWs(suite.app, guest);
    suite.closers.push(guestWs.close);
    const id = (await invite(suite.app, host, sessionId, guest.handle)).json().invite.id as string;
    expect((await remove(host, guest.id, sessionId)).statusCode).toBe(204);
    expect(await nextOf(guestWs, 'stage_invite_withdrawn')).toEqual({ type: 'stage_invite_withdrawn', inviteId: id, sessionId, userId: guest.id });
    expect(codeOf(await answer(suite.app, guest, id, 'accept'))).toEqual([409, 'INVITE_ANSWERED']);
    // Not on stage, nothing ringing: they can be called again.
    expect((await invite(suite.app, host, sessionId, guest.handle)).statusCode).toBe(201);
  });

  it('the host removes a guest on stage and publishing: no producer of theirs is left on the node', async () => {
    const { host, guest, sessionId, peer } = await liveWithViewer();
    const { grant } = await accepted(host, guest, sessionId);
    expect(await upgrade(peer, grant.token)).toEqual({ role: 'guest' });
    const producerId = await produceAudio(peer);
    expect(await onNode(sessionId, guest.id)).toMatchObject([{ role: 'guest', producers: [{ id: producerId }] }]);
    expect((await remove(host, guest.id, sessionId)).statusCode).toBe(204);
    expect(await onNode(sessionId, guest.id)).toMatchObject([{ role: 'viewer', producers: [] }]);
    expect(await refusal(produceAudio(peer))).toMatch(/^403/);
  });

  it('a guest who tries a stale grant after leaving is still removable by user id, and ends with no producer', async () => {
    const { host, guest, sessionId, peer } = await liveWithViewer();
    const { grant } = await accepted(host, guest, sessionId);
    expect((await post(suite.app, '/api/stage/leave', { sessionId }, bearer(guest.accessToken))).statusCode).toBe(204);
    // Off the stage list now; whatever the node makes of these, the host's removal must leave nothing.
    await upgrade(peer, grant.token).catch(() => undefined);
    await produceAudio(peer).catch(() => undefined);
    expect((await remove(host, guest.id, sessionId)).statusCode).toBe(204);
    expect(await onNode(sessionId, guest.id)).toMatchObject([{ role: 'viewer', producers: [] }]);
  });

  it('removing someone never invited answers 204 and changes nothing; only the host may remove', async () => {
    const { host, guest, sessionId, studio } = await liveWithViewer();
    const from = studio.events.length;
    expect(codeOf(await remove(guest, guest.id, sessionId))).toEqual([403, 'NOT_HOST']);
    expect((await remove(host, guest.id, sessionId)).statusCode).toBe(204);
    expect(studio.events.slice(from).filter((e) => e.type.startsWith('stage_'))).toEqual([]);
    expect(await onNode(sessionId, guest.id)).toMatchObject([{ role: 'viewer' }]);
  });
});

describe('POST /internal/stage/grants/check (the node asking)', () => {
  const check = async (token?: string) =>
    suite.app.inject({ method: 'POST', url: '/internal/stage/grants/check', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('takes only a guest grant this control plane signed as the credential (401 UNAUTHENTICATED); 409 when its invite does not stand', async () => {
    const claims = { sid: randomUUID(), sub: randomUUID(), role: 'guest', node: NODE_ID, jti: randomUUID() } as const;
    const refused = {
      'no token': undefined,
      'a control token': await signControlToken(KEYS.privateKey, { node: 'server', scope: 'recording:report', sid: claims.sid }),
      'a viewer token': await signMediaToken(KEYS.privateKey, { ...claims, role: 'viewer' }),
      'a guest grant of another key': await signMediaToken(testKeyPair().privateKey, claims),
      ...(await forgedTokens(claims, MEDIA_TOKEN_AUDIENCE, KEYS.publicPem)),
    };
    for (const [what, token] of Object.entries(refused)) expect([what, ...codeOf(await check(token))]).toEqual([what, 401, 'UNAUTHENTICATED']);
    expect(codeOf(await check(await signMediaToken(KEYS.privateKey, claims)))).toEqual([409, 'GRANT_REVOKED']);
    expect(codeOf(await check(await signMediaToken(KEYS.privateKey, { ...claims, sid: 'not-a-live' })))).toEqual([409, 'GRANT_REVOKED']);
  });
});
