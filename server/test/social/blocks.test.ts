import { randomStem } from '@podlive/shared/testing/handles';
import type { BlockedUsers, SearchSuggestions } from '@podlive/shared/social';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { userChannel } from '../../src/ws/events';
import { codeOf, follow, get, send } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const blocksOf = async (who: Account) => ((await get(h.app, '/api/users/me/blocks', who)).json() as BlockedUsers).items;
const counts = async (who: Account) => {
  const profile = (await get(h.app, `/api/users/${who.handle}`)).json() as { followerCount: number; followingCount: number };
  return [profile.followerCount, profile.followingCount];
};

describe('block and unblock', () => {
  it('blocking removes follows both ways (with the counters), is idempotent, and is listed newest first', async () => {
    const [me, pest, other] = await Promise.all([signUp(h.app, { displayName: 'Me' }), signUp(h.app, { displayName: 'Pest' }), signUp(h.app)]);
    await follow(h.app, me, pest);
    await follow(h.app, pest, me);
    expect(await counts(me)).toEqual([1, 1]);

    const first = await send(h.app, 'POST', `/api/users/${pest.id}/block`, me);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ blocked: true });
    expect((await send(h.app, 'POST', `/api/users/${pest.id}/block`, me)).json()).toEqual({ blocked: true });
    expect(await counts(me)).toEqual([0, 0]);
    expect(await counts(pest)).toEqual([0, 0]);

    await send(h.app, 'POST', `/api/users/${other.id}/block`, me);
    const listed = await blocksOf(me);
    expect(listed.map((u) => u.id)).toEqual([other.id, pest.id]);
    expect(listed[1]).toMatchObject({ handle: pest.handle, displayName: 'Pest', avatarUrl: null, blockedAt: expect.any(String) });
    expect(await blocksOf(pest)).toEqual([]);

    expect((await send(h.app, 'DELETE', `/api/users/${pest.id}/block`, me)).json()).toEqual({ blocked: false });
    expect((await send(h.app, 'DELETE', `/api/users/${pest.id}/block`, me)).json()).toEqual({ blocked: false });
    expect((await blocksOf(me)).map((u) => u.id)).toEqual([other.id]);
    // The follows a block removed stay removed.
    expect(await counts(me)).toEqual([0, 0]);
  });

  it('refuses self, unknown users, bad ids and anonymous callers', async () => {
    const me = await signUp(h.app);
    expect(codeOf(await send(h.app, 'POST', `/api/users/${me.id}/block`, me))).toEqual([400, 'CANNOT_BLOCK_SELF']);
    expect(codeOf(await send(h.app, 'POST', '/api/users/00000000-0000-4000-8000-000000000000/block', me))).toEqual([404, 'USER_NOT_FOUND']);
    expect(codeOf(await send(h.app, 'POST', '/api/users/not-an-id/block', me))).toEqual([400, 'VALIDATION_FAILED']);
    expect(codeOf(await h.app.inject({ method: 'POST', url: `/api/users/${me.id}/block` }))).toEqual([401, 'UNAUTHENTICATED']);
    expect(codeOf(await h.app.inject({ method: 'GET', url: '/api/users/me/blocks' }))).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('publishes blocks_changed on both users’ channels on a change, not on a repeat', async () => {
    const [me, pest] = await Promise.all([signUp(h.app), signUp(h.app)]);
    // The bus, as the chat's connections hear it (blocks_changed is for them, not for browsers).
    const heard: string[] = [];
    const listen = (who: Account) => h.app.bus.subscribe(userChannel(who.id), (m) => void ((m as { type: string }).type === 'blocks_changed' && heard.push(who.id)));
    const stops = await Promise.all([listen(me), listen(pest)]);
    await send(h.app, 'POST', `/api/users/${pest.id}/block`, me);
    await send(h.app, 'POST', `/api/users/${pest.id}/block`, me);
    expect(heard.sort()).toEqual([me.id, pest.id].sort());
    await send(h.app, 'DELETE', `/api/users/${pest.id}/block`, me);
    await send(h.app, 'DELETE', `/api/users/${pest.id}/block`, me);
    expect(heard).toHaveLength(4);
    await Promise.all(stops.map((stop) => stop()));
  });
});

describe('what a block refuses', () => {
  it('the blocked user cannot follow the blocker, nor the blocker them, until unblocked', async () => {
    const [blocker, blocked] = await Promise.all([signUp(h.app), signUp(h.app)]);
    await send(h.app, 'POST', `/api/users/${blocked.id}/block`, blocker);
    expect(codeOf(await send(h.app, 'POST', `/api/users/${blocker.id}/follow`, blocked))).toEqual([403, 'FOLLOW_BLOCKED']);
    expect(codeOf(await send(h.app, 'POST', `/api/users/${blocked.id}/follow`, blocker))).toEqual([403, 'FOLLOW_BLOCKED']);
    expect(await counts(blocker)).toEqual([0, 0]);
    await send(h.app, 'DELETE', `/api/users/${blocked.id}/block`, blocker);
    expect((await send(h.app, 'POST', `/api/users/${blocker.id}/follow`, blocked)).statusCode).toBe(200);
  });

  it('a follow racing a block never survives it', async () => {
    for (let i = 0; i < 5; i++) {
      const [blocker, blocked] = await Promise.all([signUp(h.app), signUp(h.app)]);
      await Promise.all([send(h.app, 'POST', `/api/users/${blocker.id}/follow`, blocked), send(h.app, 'POST', `/api/users/${blocked.id}/block`, blocker)]);
      expect(await counts(blocker)).toEqual([0, 0]);
    }
  });

  it('the blocker is left out of the blocked user’s suggestions and user search, not of others’', async () => {
    const stem = randomStem('zq', ['_blk']);
    const [blocker, blocked, bystander] = await Promise.all([signUp(h.app, { handle: `${stem}_blk` }), signUp(h.app), signUp(h.app)]);
    const suggest = async (who: Account) => ((await get(h.app, `/api/search/suggest?q=${stem}`, who)).json() as SearchSuggestions).users.map((u) => u.id);
    const search = async (who: Account) => ((await get(h.app, `/api/users/search?q=${stem}`, who)).json() as { items: { id: string }[] }).items.map((u) => u.id);
    expect(await suggest(blocked)).toEqual([blocker.id]);
    await send(h.app, 'POST', `/api/users/${blocked.id}/block`, blocker);
    expect(await suggest(blocked)).toEqual([]);
    expect(await search(blocked)).toEqual([]);
    expect(await suggest(bystander)).toEqual([blocker.id]);
    expect(await search(bystander)).toEqual([blocker.id]);
  });
});
