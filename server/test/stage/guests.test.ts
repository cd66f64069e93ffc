import { randomStem } from '@podlive/shared/testing/handles';
import type { StageSuggestion } from '@podlive/shared/stage';
import { describe, expect, it } from 'vitest';
import { bearer, post, signUp } from '../accounts/harness';
import { createLive, startLive, until } from '../live/harness';
import { answer, codeOf, invite, nextOf, openUserWs, peersOnNode, watch, stageSuite } from './harness';

const suite = stageSuite();

/** A live with `guest` accepted on stage, and the host's /ws subscribed to the live. */
async function liveWithGuest() {
  const host = await signUp(suite.app);
  const guest = await signUp(suite.app);
  const sessionId = await createLive(suite.app, host);
  await startLive(suite.app, host, sessionId);
  suite.closers.push((await watch(suite.app, suite.node, guest, sessionId)).close);
  const studio = await openUserWs(suite.app, host);
  suite.closers.push(studio.close);
  await studio.subscribe(sessionId);
  const id = (await invite(suite.app, host, sessionId, guest.handle)).json().invite.id as string;
  expect((await answer(suite.app, guest, id, 'accept')).statusCode).toBe(200);
  return { host, guest, sessionId, studio };
}
const guestsOf = async (sessionId: string) => (await suite.app.inject({ method: 'GET', url: `/api/stage/${sessionId}/guests` })).json() as Array<{ id: string; muted: boolean }>;

describe('stage guests', () => {
  it('mute: host only, the suite.node marks the guest mutedByHost, stage_guest_muted goes to the live', async () => {
    const { host, guest, sessionId, studio } = await liveWithGuest();
    const url = `/api/stage/guest/${guest.id}/mute`;
    expect(codeOf(await post(suite.app, url, { sessionId, muted: true }, bearer(guest.accessToken)))).toEqual([403, 'NOT_HOST']);
    const muted = await post(suite.app, url, { sessionId, muted: true }, bearer(host.accessToken));
    expect(muted.statusCode).toBe(200);
    expect((await peersOnNode(suite.node, sessionId)).find((p) => p.userId === guest.id)?.mutedByHost).toBe(true);
    expect(await nextOf(studio, 'stage_guest_muted')).toMatchObject({ userId: guest.id, muted: true });
    expect(await guestsOf(sessionId)).toMatchObject([{ id: guest.id, muted: true }]);
    await post(suite.app, url, { sessionId, muted: false }, bearer(host.accessToken));
    expect((await peersOnNode(suite.node, sessionId)).find((p) => p.userId === guest.id)?.mutedByHost).toBe(false);
    const stranger = await signUp(suite.app);
    expect(codeOf(await post(suite.app, `/api/stage/guest/${stranger.id}/mute`, { sessionId, muted: true }, bearer(host.accessToken)))).toEqual([409, 'NOT_ON_STAGE']);
  });

  it('remove: revoked on the suite.node, stage_guest_left {removed}, the list is empty, the guest can be called again', async () => {
    const { host, guest, sessionId, studio } = await liveWithGuest();
    const url = `/api/stage/guest/${guest.id}?sessionId=${sessionId}`;
    expect(codeOf(await suite.app.inject({ method: 'DELETE', url, headers: bearer(guest.accessToken) }))).toEqual([403, 'NOT_HOST']);
    const removed = await suite.app.inject({ method: 'DELETE', url, headers: bearer(host.accessToken) });
    expect(removed.statusCode).toBe(204);
    expect(await nextOf(studio, 'stage_guest_left')).toMatchObject({ userId: guest.id, reason: 'removed' });
    expect(await guestsOf(sessionId)).toEqual([]);
    const peer = await until(async () => (await peersOnNode(suite.node, sessionId)).find((p) => p.userId === guest.id), 'the guest still watching');
    expect(peer.role).toBe('viewer');
    expect((await invite(suite.app, host, sessionId, guest.handle)).statusCode).toBe(201);
  });

  it('leave with permission_denied: the host is told why', async () => {
    const { guest, sessionId, studio } = await liveWithGuest();
    const left = await post(suite.app, '/api/stage/leave', { sessionId, reason: 'permission_denied' }, bearer(guest.accessToken));
    expect(left.statusCode).toBe(204);
    expect(await nextOf(studio, 'stage_guest_left')).toMatchObject({ userId: guest.id, reason: 'permission_denied' });
    expect(await guestsOf(sessionId)).toEqual([]);
    expect(codeOf(await post(suite.app, '/api/stage/leave', { sessionId }, bearer(guest.accessToken)))).toEqual([409, 'NOT_ON_STAGE']);
  });

  it('suggestions: people watching first, then the search; never the host or a guest; host only', async () => {
    const { host, guest, sessionId } = await liveWithGuest();
    const tag = randomStem('zq', ['_watching', '_away']);
    const watcher = await signUp(suite.app, { handle: `${tag}_watching` });
    const elsewhere = await signUp(suite.app, { handle: `${tag}_away` });
    suite.closers.push((await watch(suite.app, suite.node, watcher, sessionId)).close);
    const url = `/api/stage/${sessionId}/suggestions?q=${tag.toUpperCase()}`;
    expect(codeOf(await suite.app.inject({ method: 'GET', url, headers: bearer(guest.accessToken) }))).toEqual([403, 'NOT_HOST']);
    const list = (await suite.app.inject({ method: 'GET', url, headers: bearer(host.accessToken) })).json() as StageSuggestion[];
    expect(list.map((s) => [s.id, s.watching])).toEqual([[watcher.id, true], [elsewhere.id, false]]);
    const all = (await suite.app.inject({ method: 'GET', url: `/api/stage/${sessionId}/suggestions`, headers: bearer(host.accessToken) })).json() as StageSuggestion[];
    expect(all.length).toBeLessThanOrEqual(8);
    expect(all[0]).toMatchObject({ id: watcher.id, watching: true });
    expect(all.some((s) => s.id === host.id || s.id === guest.id)).toBe(false);
  });
});
