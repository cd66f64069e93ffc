import { sql } from '@podlive/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, countRows, signUp, startHarness, unique, type Account, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const get = (url: string, token?: string) => h.app.inject({ method: 'GET', url, headers: token ? bearer(token) : {} });
const put = (url: string, payload: object, token: string) => h.app.inject({ method: 'PUT', url, payload, headers: bearer(token) });
const followReq = (method: 'POST' | 'DELETE', id: string, token: string) => h.app.inject({ method, url: `/api/users/${id}/follow`, headers: bearer(token) });

async function countsOf(id: string) {
  const { queryRows } = await import('@podlive/db');
  const [row] = await queryRows<{ follower_count: number; following_count: number; followers: number; following: number }>(
    h.testDb.db,
    sql`select follower_count, following_count,
      (select count(*)::int from follows where followee_id = ${id}) as followers,
      (select count(*)::int from follows where follower_id = ${id}) as following
      from users where id = ${id}`,
  );
  return row;
}

describe('GET /api/users/:handle', () => {
  it('returns the public profile ignoring case and a leading @, with isFollowing only for a signed-in caller', async () => {
    const owner = await signUp(h.app, { displayName: 'Owner' });
    const viewer = await signUp(h.app);
    const anonymous = await get(`/api/users/@${owner.handle.toUpperCase()}`);
    expect(anonymous.statusCode).toBe(200);
    const profile = anonymous.json();
    expect(Object.keys(profile).sort()).toEqual(
      ['avatarUrl', 'bio', 'createdAt', 'displayName', 'followerCount', 'followingCount', 'handle', 'id', 'isLive', 'isVerified'].sort(),
    );
    expect(profile).toMatchObject({ id: owner.id, handle: owner.handle, displayName: 'Owner', avatarUrl: null, isLive: false, isVerified: false });
    expect((await get(`/api/users/${owner.handle}`, viewer.accessToken)).json().isFollowing).toBe(false);
    await followReq('POST', owner.id, viewer.accessToken);
    expect((await get(`/api/users/${owner.handle}`, viewer.accessToken)).json()).toMatchObject({ isFollowing: true, followerCount: 1 });
  });

  it('404s an unknown handle', async () => {
    const response = await get(`/api/users/nobody_${unique()}`);
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('USER_NOT_FOUND');
  });
});

describe('PUT /api/users/me', () => {
  it('updates display name and bio; HTML is stored and returned as text', async () => {
    const me = await signUp(h.app);
    const response = await put('/api/users/me', { displayName: '<script>alert(1)</script>', bio: "'; drop table users; --" }, me.accessToken);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ displayName: '<script>alert(1)</script>', bio: "'; drop table users; --" });
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect((await get(`/api/users/${me.handle}`)).json().displayName).toBe('<script>alert(1)</script>');
  });

  it('changes the handle once per 90 days (403 HANDLE_CHANGE_TOO_SOON with the date), a case change counting', async () => {
    const me = await signUp(h.app);
    const renamed = `renamed_${unique()}`;
    const first = await put('/api/users/me', { handle: `@${renamed}` }, me.accessToken);
    expect(first.statusCode).toBe(200);
    expect(first.json().handle).toBe(renamed);
    const allowedAt = first.json().handleChangeAllowedAt as string;
    expect(new Date(allowedAt).getTime() - Date.now()).toBeGreaterThan(89 * 24 * 3600 * 1000);
    // Setting the same handle is no change.
    expect((await put('/api/users/me', { handle: renamed }, me.accessToken)).statusCode).toBe(200);
    const caseChange = await put('/api/users/me', { handle: renamed.toUpperCase() }, me.accessToken);
    expect(caseChange.statusCode).toBe(403);
    expect(caseChange.json().error).toMatchObject({ code: 'HANDLE_CHANGE_TOO_SOON', fields: { handleChangeAllowedAt: allowedAt } });
    // 91 days later it is allowed again.
    await h.testDb.db.execute(sql`update users set handle_changed_at = now() - interval '91 days' where id = ${me.id}`);
    const later = await put('/api/users/me', { handle: renamed.toUpperCase() }, me.accessToken);
    expect(later.statusCode).toBe(200);
    expect(later.json().handle).toBe(renamed.toUpperCase());
  });

  it('maps a handle taken in another case to 409 HANDLE_TAKEN, changing nothing', async () => {
    const other = await signUp(h.app);
    const me = await signUp(h.app);
    const response = await put('/api/users/me', { handle: other.handle.toUpperCase(), bio: 'new bio' }, me.accessToken);
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('HANDLE_TAKEN');
    expect((await get('/api/users/me', me.accessToken)).json()).toMatchObject({ handle: me.handle, bio: '', handleChangeAllowedAt: null });
  });

  it('refuses reserved and prohibited handles', async () => {
    const me = await signUp(h.app);
    for (const handle of ['settings', 'f_u_c_k']) {
      const response = await put('/api/users/me', { handle }, me.accessToken);
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('HANDLE_PROHIBITED');
    }
  });
});

describe('follows', () => {
  it('are idempotent, refuse self (400) and unknown users (404)', async () => {
    const a = await signUp(h.app);
    const b = await signUp(h.app);
    expect((await followReq('POST', b.id, a.accessToken)).json()).toEqual({ following: true, followerCount: 1 });
    expect((await followReq('POST', b.id, a.accessToken)).json()).toEqual({ following: true, followerCount: 1 });
    expect(await countsOf(b.id)).toMatchObject({ follower_count: 1, followers: 1 });
    expect((await followReq('DELETE', b.id, a.accessToken)).json()).toEqual({ following: false, followerCount: 0 });
    expect((await followReq('DELETE', b.id, a.accessToken)).json()).toEqual({ following: false, followerCount: 0 });
    const self = await followReq('POST', a.id, a.accessToken);
    expect(self.statusCode).toBe(400);
    expect(self.json().error.code).toBe('CANNOT_FOLLOW_SELF');
    const unknown = await followReq('POST', '00000000-0000-4000-8000-000000000000', a.accessToken);
    expect(unknown.statusCode).toBe(404);
    expect((await followReq('POST', 'not-a-uuid', a.accessToken)).statusCode).toBe(400);
    expect((await h.app.inject({ method: 'POST', url: `/api/users/${b.id}/follow` })).statusCode).toBe(401);
  });

  it('keep exact counts under concurrent follows and follow/unfollow races', async () => {
    const target = await signUp(h.app);
    const fans: Account[] = [];
    for (let i = 0; i < 20; i++) fans.push(await signUp(h.app));
    const flipper = fans[0] as Account;
    const responses = await Promise.all([
      ...fans.map((fan) => followReq('POST', target.id, fan.accessToken)),
      // The same user following and unfollowing in parallel, and crossed follows (target → fan).
      ...Array.from({ length: 10 }, (_, i) => followReq(i % 2 === 0 ? 'DELETE' : 'POST', target.id, flipper.accessToken)),
      ...fans.slice(0, 5).map((fan) => followReq('POST', fan.id, target.accessToken)),
    ]);
    // Every race is answered (no deadlock surfacing as a 500).
    expect(responses.map((r) => r.statusCode).filter((status) => status !== 200)).toEqual([]);
    const counts = await countsOf(target.id);
    expect(counts?.follower_count).toBe(counts?.followers);
    expect(counts?.following_count).toBe(counts?.following);
    expect(counts?.following).toBe(5);
    expect([19, 20]).toContain(counts?.followers);
    const flipperCounts = await countsOf(flipper.id);
    expect(flipperCounts?.following_count).toBe(flipperCounts?.following);
    expect(flipperCounts?.follower_count).toBe(flipperCounts?.followers);
  });
});

describe('GET /api/users/search', () => {
  it('tolerates typos and ranks the exact/prefix match first', async () => {
    await signUp(h.app, { handle: 'rahul_fan', displayName: 'Fan Club' });
    await signUp(h.app, { handle: 'rahul', displayName: 'Rahul' });
    await signUp(h.app, { handle: 'raul_m', displayName: 'Raul' });
    await signUp(h.app, { handle: 'priya', displayName: 'Priya Rahul Nair' });
    const handles = async (q: string) => (await get(`/api/users/search?q=${q}`)).json().items.map((u: { handle: string }) => u.handle);
    expect(await handles('rahl')).toContain('rahul');
    const exact = await handles('rahul');
    expect(exact.slice(0, 2)).toEqual(['rahul', 'rahul_fan']);
    expect(exact).toContain('priya'); // display-name word match
    expect(exact).not.toContain(expect.stringMatching(/^user_/));
    expect((await handles('%40Rahul'))[0]).toBe('rahul');
  });

  it('paginates with hasMore', async () => {
    const tag = unique().replace(/\d/g, 'y');
    for (let i = 0; i < 3; i++) await signUp(h.app, { handle: `pg${tag}_${i}` });
    const first = (await get(`/api/users/search?q=pg${tag}&limit=2&page=1`)).json();
    expect(first).toMatchObject({ page: 1, limit: 2, hasMore: true });
    expect(first.items).toHaveLength(2);
    const second = (await get(`/api/users/search?q=pg${tag}&limit=2&page=2`)).json();
    expect(second.hasMore).toBe(false);
    expect(second.items).toHaveLength(1);
  });

  it('treats SQL and LIKE wildcards in q as text', async () => {
    const users = await countRows(h.testDb, 'users');
    for (const q of ["' or 1=1; drop table users; --", '%', '_', "\\'"]) {
      const response = await get(`/api/users/search?q=${encodeURIComponent(q)}`);
      expect(response.statusCode).toBe(200);
      expect(response.json().items.length).toBeLessThan(users);
    }
    expect(await countRows(h.testDb, 'users')).toBe(users);
    expect((await get('/api/users/search?q=')).statusCode).toBe(400);
    expect((await get('/api/users/search?q=a&limit=1000')).json().error.fields.limit).toEqual(expect.any(String));
  });
});
