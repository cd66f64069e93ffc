import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMITS } from '../../src/config';
import { bearer, countRows, post, signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { createLive, multipart, openWs, startLive, until } from './harness';

let h: Harness;
let host: Account;
beforeAll(async () => {
  h = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9' });
  host = await signUp(h.app, { displayName: 'Catalog Host' });
});
afterAll(async () => {
  await h.close();
});

const get = (url: string) => h.app.inject({ method: 'GET', url });
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

describe('/api/live catalog', () => {
  it('creates a session (201) for a signed-in caller and serves it at GET /api/live/:id', async () => {
    const scheduledAt = inAnHour();
    const response = await post(h.app, '/api/live/create', { title: '  Morning show ', description: 'Coffee', category: 'News', scheduledAt }, bearer(host.accessToken));
    expect(response.statusCode).toBe(201);
    const { session } = response.json();
    expect(session).toEqual({
      id: expect.any(String), title: 'Morning show', description: 'Coffee', category: 'News', status: 'scheduled',
      scheduledAt: new Date(scheduledAt).toISOString(), startedAt: null, endedAt: null, thumbnailUrl: null, hlsUrl: null, viewers: 0, peakViewers: 0,
      host: { id: host.id, handle: host.handle, displayName: 'Catalog Host', avatarUrl: null },
    });
    expect((await get(`/api/live/${session.id}`)).json()).toEqual(session);
    expect((await get('/api/live/00000000-0000-4000-8000-000000000000')).json().error.code).toBe('LIVE_NOT_FOUND');
    expect((await get('/api/live/not-a-uuid')).statusCode).toBe(400);
  });

  it('refuses anonymous creates (401) and invalid bodies (400 with fields), creating nothing', async () => {
    const before = await countRows(h.testDb, 'live_sessions');
    expect((await post(h.app, '/api/live/create', { title: 'x', category: 'Tech' })).statusCode).toBe(401);
    const cases: Array<[object, string]> = [
      [{ title: 'x', category: 'Cooking' }, 'category'],
      [{ title: 'x'.repeat(201), category: 'Tech' }, 'title'],
      [{ title: '   ', category: 'Tech' }, 'title'],
      [{ title: 'x', category: 'Tech', description: 'd'.repeat(2001) }, 'description'],
      [{ title: 'x', category: 'Tech', scheduledAt: 'tomorrow' }, 'scheduledAt'],
      [{ title: 'x', category: 'Tech', scheduledAt: new Date(Date.now() - 60_000).toISOString() }, 'scheduledAt'],
      [{ title: 'x', category: 'Tech', hostId: host.id }, '(request)'],
    ];
    for (const [body, field] of cases) {
      const response = await post(h.app, '/api/live/create', body, bearer(host.accessToken));
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(Object.keys(response.json().error.fields)).toContain(field);
    }
    expect(await countRows(h.testDb, 'live_sessions')).toBe(before);
  });

  it('lists live sessions by current viewers and upcoming scheduled ones soonest first', async () => {
    const [small, big] = [await signUp(h.app), await signUp(h.app)];
    const smallId = await createLive(h.app, small);
    const bigId = await createLive(h.app, big);
    await startLive(h.app, small, smallId);
    await startLive(h.app, big, bigId);
    const watchers = await Promise.all([openWs(h.app), openWs(h.app)]);
    for (const w of watchers) await w.subscribe(bigId, true);
    // Counts are flushed at most once a second (throttled), so the listing catches up within one.
    const bigOf = (page: { items: Array<{ id: string; viewers: number }> }) => page.items.find((s) => s.id === bigId);
    const active = await until(async () => {
      const page = (await get('/api/live/active?limit=50')).json();
      return bigOf(page)?.viewers === 2 ? page : undefined;
    }, 'two viewers listed');
    const ids = active.items.map((s: { id: string }) => s.id);
    expect(ids.indexOf(bigId)).toBeLessThan(ids.indexOf(smallId));
    expect(active.items.find((s: { id: string }) => s.id === bigId)).toMatchObject({ viewers: 2, status: 'live', host: { id: big.id } });
    expect((await get('/api/live/active?limit=1')).json()).toMatchObject({ page: 1, limit: 1, hasMore: true });
    expect((await get('/api/live/active?limit=500')).statusCode).toBe(400);
    for (const w of watchers) w.close();

    const later = await createLive(h.app, host, { scheduledAt: new Date(Date.now() + 7200_000).toISOString() });
    const sooner = await createLive(h.app, host, { scheduledAt: inAnHour() });
    const scheduled = (await get('/api/live/scheduled?limit=50')).json().items.map((s: { id: string }) => s.id);
    expect(scheduled.indexOf(sooner)).toBeGreaterThanOrEqual(0);
    expect(scheduled.indexOf(sooner)).toBeLessThan(scheduled.indexOf(later));
    expect(scheduled).not.toContain(smallId);
  });

  it('reports stats: zeros before the start, duration once live', async () => {
    const id = await createLive(h.app, host);
    expect((await get(`/api/live/${id}/stats`)).json()).toEqual({ viewers: 0, peakViewers: 0, durationSec: 0, startedAt: null, status: 'scheduled' });
    await startLive(h.app, host, id);
    expect((await get(`/api/live/${id}/stats`)).json()).toMatchObject({ status: 'live', startedAt: expect.any(String), durationSec: expect.any(Number) });
    await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
    expect((await get(`/api/live/${id}/stats`)).json().status).toBe('ended');
  });

  it('stores a host-uploaded thumbnail as a 1280x720 WebP under a new key per upload, served immutable', async () => {
    const id = await createLive(h.app, host);
    const png = await sharp({ create: { width: 640, height: 640, channels: 3, background: '#3a6' } }).png().toBuffer();
    const upload = async () => h.app.inject({ method: 'PUT', url: `/api/live/${id}/thumbnail`, ...merge(multipart('thumbnail', png)) });
    const merge = (m: ReturnType<typeof multipart>) => ({ payload: m.payload, headers: { ...m.headers, ...bearer(host.accessToken) } });
    const first = await upload();
    expect(first.statusCode).toBe(200);
    const url = first.json().thumbnailUrl as string;
    expect(url).toMatch(new RegExp(`^/api/media/thumbnails/${id}/[0-9a-f]{24}\\.webp$`));
    const served = await get(url);
    expect(served.statusCode).toBe(200);
    expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(await sharp(served.rawPayload).metadata()).toMatchObject({ format: 'webp', width: 1280, height: 720 });
    const second = (await upload()).json().thumbnailUrl as string;
    expect(second).not.toBe(url);
    expect((await get(url)).statusCode).toBe(404);

    const bad = await h.app.inject({ method: 'PUT', url: `/api/live/${id}/thumbnail`, ...merge(multipart('thumbnail', Buffer.from('<svg/>'))) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('THUMBNAIL_INVALID');
    expect((await get(`/api/live/${id}`)).json().thumbnailUrl).toBe(second);
  });

  it('rate-limits creates per account (429 RATE_LIMITED)', async () => {
    const limited = await startHarness({ rateLimits: { ...DEFAULT_RATE_LIMITS, rules: { ...DEFAULT_RATE_LIMITS.rules, createLive: { max: 2, windowSec: 60 } } } });
    try {
      const owner = await signUp(limited.app);
      const create = () => post(limited.app, '/api/live/create', { title: 'x', category: 'Tech' }, bearer(owner.accessToken));
      expect((await create()).statusCode).toBe(201);
      expect((await create()).statusCode).toBe(201);
      const third = await create();
      expect(third.statusCode).toBe(429);
      expect(third.json().error.code).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});
