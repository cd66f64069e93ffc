import { randomStem } from '@podlive/shared/testing/handles';
import type { DiscoverPage, SearchSuggestions } from '@podlive/shared/social';
import { describe, expect, it } from 'vitest';
import { signUp, type Account } from '../accounts/harness';
import { createLive, startLive, until, useAppWithSockets } from '../live/harness';
import { codeOf, get, send } from './harness';

const t = useAppWithSockets();

/** `n` anonymous /ws connections watching the live. */
async function watchers(sessionId: string, n: number) {
  for (let i = 0; i < n; i++) {
    await (await t.open()).subscribe(sessionId, true);
  }
  await until(async () => ((await get(t.h.app, `/api/live/${sessionId}`)).json().viewers >= n ? true : undefined), `${n} viewers counted`);
}

async function goLive(host: Account, title: string, category: string) {
  const id = await createLive(t.h.app, host, { title, category });
  await startLive(t.h.app, host, id);
  return id;
}

const discover = async (who?: Account) => {
  const response = await get(t.h.app, '/api/discover', who);
  expect(response.statusCode).toBe(200);
  return response.json() as DiscoverPage;
};

describe('discover and suggestions', () => {
  it('ranks trending by viewers and their growth, groups lives by category, hides lives of hosts who blocked the caller', async () => {
    const [bigHost, risingHost] = await Promise.all([signUp(t.h.app), signUp(t.h.app)]);
    const big = await goLive(bigHost, 'Big steady show', 'Tech');
    const rising = await goLive(risingHost, 'Rising show', 'Music');
    await watchers(big, 3);

    const before = await discover();
    expect(before.trending.map((l) => [l.id, l.viewers, l.growth])).toEqual([[big, 3, 0], [rising, 0, 0]]);

    await watchers(rising, 2);
    const after = await discover();
    // 2 viewers gained beat 3 steady ones (score: viewers + 2 × growth).
    expect(after.trending.map((l) => [l.id, l.viewers, l.growth])).toEqual([[rising, 2, 2], [big, 3, 0]]);
    expect(after.trending[0]).toMatchObject({ title: 'Rising show', status: 'live', host: { id: risingHost.id } });
    expect(after.categories.map((c) => [c.category, c.lives.map((l) => l.id)])).toEqual([['Tech', [big]], ['Music', [rising]]]);

    const blocked = await signUp(t.h.app);
    await send(t.h.app, 'POST', `/api/users/${blocked.id}/block`, risingHost);
    const theirs = await discover(blocked);
    expect(theirs.trending.map((l) => l.id)).toEqual([big]);
    expect(theirs.categories.map((c) => c.category)).toEqual(['Tech']);
  });

  it('suggests users by handle or name prefix and lives by title, leaving out who blocked the caller', async () => {
    const stem = randomStem('sg', ['', '_two', '_blocker']);
    const [exact, prefixed, named, blocker, caller] = await Promise.all([
      signUp(t.h.app, { handle: stem }),
      signUp(t.h.app, { handle: `${stem}_two` }),
      signUp(t.h.app, { displayName: `${stem} Named` }),
      signUp(t.h.app, { handle: `${stem}_blocker` }),
      signUp(t.h.app),
    ]);
    const live = await goLive(exact, `The ${stem} hour`, 'News');
    await goLive(blocker, `${stem} by a blocker`, 'News');
    await send(t.h.app, 'POST', `/api/users/${caller.id}/block`, blocker);

    const response = await get(t.h.app, `/api/search/suggest?q=${encodeURIComponent(`  @${stem.toUpperCase()} `)}`, caller);
    expect(response.statusCode).toBe(200);
    const found = response.json() as SearchSuggestions;
    expect(found.users[0]).toEqual({ id: exact.id, handle: stem, displayName: expect.any(String), avatarUrl: null });
    expect(found.users.map((u) => u.id).sort()).toEqual([exact.id, prefixed.id].sort());
    expect(found.lives).toEqual([]);

    const byName = (await get(t.h.app, `/api/search/suggest?q=${stem}`, caller)).json() as SearchSuggestions;
    expect(byName.users.map((u) => u.id).sort()).toEqual([exact.id, prefixed.id, named.id].sort());
    expect(byName.lives).toEqual([{ id: live, title: `The ${stem} hour`, hostHandle: stem }]);
    const anonymous = (await get(t.h.app, `/api/search/suggest?q=${stem}`)).json() as SearchSuggestions;
    expect(anonymous.users.map((u) => u.id)).toContain(blocker.id);
    expect(anonymous.lives).toHaveLength(2);
  });

  it('treats wildcards and scripts as text, and refuses empty, huge or control-character queries with 400', async () => {
    for (const q of ['%', '_', '\\', "' or 1=1 --", '<script>alert(1)</script>']) {
      const response = await get(t.h.app, `/api/search/suggest?q=${encodeURIComponent(q)}`);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ users: [], lives: [] });
    }
    for (const query of ['', '?q=', `?q=${encodeURIComponent('   ')}`, `?q=${'a'.repeat(101)}`, `?q=${'a'.repeat(5000)}`, `?q=${encodeURIComponent('a\u0000b')}`, `?q=${encodeURIComponent('a\nb')}`, '?q=a&other=1']) {
      expect(codeOf(await get(t.h.app, `/api/search/suggest${query}`))).toEqual([400, 'VALIDATION_FAILED']);
    }
  });
});
