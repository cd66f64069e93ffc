import { queryRows, sql } from '@podlive/db';
import { createTestDb } from '@podlive/db/testing';
import { type Recording } from '@podlive/shared/recording';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { InProcessBus } from '../src/bus';
import type { Config } from '../src/config';
import { databaseHandle } from '../src/db';
import { PlaylistLinks } from '../src/features/recordings/private-hls';
import { bearer, generousLimits, localFiles, signUp, startHarness, type Account } from './accounts/harness';
import { captureLogger, testConfig } from './helpers';
import { endedLive, fetchOwn, readyBody, reportFinished, seedObjects } from './recordings/harness';
import { startS3rverProcess } from '../../storage/test/s3rver-process';
import { h, host, stranger, useRecordingsHarness, secret, get, patch, remove, codeOf, page, rowOf, readyRecording } from './recordings/setup';

useRecordingsHarness();

describe('GET /api/users/:handle/recordings and /api/recordings/:id', () => {
  let owner: Account;
  /** Newest first: [processing, private, ready 3, ready 2, failed, ready 1]. */
  const made: { id: string; status: string; visibility: string }[] = [];
  beforeAll(async () => {
    owner = await signUp(h.app);
    const add = async (kind: 'ready' | 'failed' | 'private' | 'processing') => {
      const sessionId = await endedLive(h.app, owner, `Show ${made.length + 1}`);
      if (kind === 'failed') await reportFinished(h.app, secret(), sessionId, { status: 'failed', durationSec: 0, sizeBytes: 0, renditions: [], masterKey: null, thumbnailKey: null });
      if (kind === 'ready' || kind === 'private') await reportFinished(h.app, secret(), sessionId, readyBody(sessionId));
      const row = await rowOf(sessionId);
      if (kind === 'private') expect((await patch(row?.id ?? '', { visibility: 'private' }, owner)).statusCode).toBe(200);
      made.unshift({ id: row?.id ?? '', status: kind === 'private' ? 'ready' : kind, visibility: kind === 'private' ? 'private' : 'public' });
    };
    for (const kind of ['ready', 'failed', 'ready', 'ready', 'private', 'processing'] as const) await add(kind);
  });

  /** Every item of the list, following nextCursor, `limit` at a time. */
  async function walk(url: string, who: Account | undefined, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 20; pages++) {
      const response = await get(`${url}?limit=${limit}${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`, who);
      expect(response.statusCode).toBe(200);
      const body = page(response);
      expect(body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...body.items.map((r) => r.id));
      if (body.nextCursor === null) return ids;
      cursor = body.nextCursor;
    }
    throw new Error('the list never ended');
  }

  it('gives the owner every recording, newest first, page by page; others only the ready public ones', async () => {
    const url = `/api/users/${owner.handle}/recordings`;
    expect(await walk(url, owner, 4)).toEqual(made.map((r) => r.id));
    expect(await walk(url, owner, 1)).toEqual(made.map((r) => r.id));
    const shown = made.filter((r) => r.status === 'ready' && r.visibility === 'public').map((r) => r.id);
    expect(shown).toHaveLength(3);
    expect(await walk(url, stranger, 2)).toEqual(shown);
    expect(await walk(url, undefined, 1)).toEqual(shown);
    // A leading @ and another case name the same user.
    expect(page(await get(`/api/users/@${owner.handle.toUpperCase()}/recordings`)).items.map((r) => r.id)).toEqual(shown);
    const first = page(await get(`${url}?limit=1`, owner));
    expect(first.items[0]).toMatchObject({ status: 'processing', visibility: 'public' });
    expect(page(await get(url, owner)).nextCursor).toBeNull();
  });

  it('pages through recordings created in the same microsecond without skipping or repeating one', async () => {
    await h.testDb.db.execute(sql`update recordings set created_at = '2025-01-01T00:00:00.123456Z' where owner_id = ${owner.id}`);
    try {
      const url = `/api/users/${owner.handle}/recordings`;
      const all = await walk(url, owner, 50);
      expect([...all].sort()).toEqual(made.map((r) => r.id).sort());
      expect(all).toEqual([...all].sort().reverse());
      expect(await walk(url, owner, 1)).toEqual(all);
      expect(await walk(url, owner, 4)).toEqual(all);
    } finally {
      // Back to distinct times in the original order, for the other tests.
      for (const [i, r] of made.entries()) {
        await h.testDb.db.execute(sql`update recordings set created_at = now() - make_interval(secs => ${i}) where id = ${r.id}`);
      }
    }
  });

  it('refuses a bad cursor or limit (400) and an unknown user (404)', async () => {
    const url = `/api/users/${owner.handle}/recordings`;
    const bad = await get(`${url}?cursor=not-a-cursor`);
    expect(codeOf(bad)).toEqual([400, 'VALIDATION_FAILED']);
    expect(bad.json().error.fields.cursor).toMatch(/cursor/);
    for (const query of ['limit=0', 'limit=51', 'limit=x', 'other=1']) expect(codeOf(await get(`${url}?${query}`))).toEqual([400, 'VALIDATION_FAILED']);
    expect(codeOf(await get('/api/users/nobody_here_at_all/recordings'))).toEqual([404, 'USER_NOT_FOUND']);
  });

  it('shows a recording to anyone when ready and public, otherwise only to its owner (404 for others)', async () => {
    const [processing, priv, ready] = made;
    for (const who of [undefined, stranger, owner]) expect((await get(`/api/recordings/${ready?.id}`, who)).statusCode).toBe(200);
    for (const hidden of [processing, priv]) {
      expect(codeOf(await get(`/api/recordings/${hidden?.id}`))).toEqual([404, 'RECORDING_NOT_FOUND']);
      expect(codeOf(await get(`/api/recordings/${hidden?.id}`, stranger))).toEqual([404, 'RECORDING_NOT_FOUND']);
      expect((await get(`/api/recordings/${hidden?.id}`, owner)).statusCode).toBe(200);
    }
    expect(codeOf(await get('/api/recordings/nope'))).toEqual([400, 'VALIDATION_FAILED']);
    expect(codeOf(await get('/api/recordings/00000000-0000-4000-8000-000000000000'))).toEqual([404, 'RECORDING_NOT_FOUND']);
  });
});

describe('PATCH /api/recordings/:id', () => {
  it('lets only the owner rename it or change its visibility (401 signed out, 403 for others, 404 when they cannot see it)', async () => {
    const owner = await signUp(h.app);
    const { recording } = await readyRecording(owner, 'Old title');
    expect(codeOf(await patch(recording.id, { title: 'Mine now' }))).toEqual([401, 'UNAUTHENTICATED']);
    expect(codeOf(await patch(recording.id, { title: 'Mine now' }, stranger))).toEqual([403, 'NOT_RECORDING_OWNER']);

    const renamed = await patch(recording.id, { title: '  New title  ' }, owner);
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ id: recording.id, title: 'New title', visibility: 'public' });
    const hidden = await patch(recording.id, { visibility: 'private' }, owner);
    expect(hidden.json()).toMatchObject({ title: 'New title', visibility: 'private' });
    expect(codeOf(await patch(recording.id, { visibility: 'public' }, stranger))).toEqual([404, 'RECORDING_NOT_FOUND']);
    expect((await patch(recording.id, { visibility: 'public', title: 'Both' }, owner)).json()).toMatchObject({ title: 'Both', visibility: 'public' });
  });

  it('answers 400 with the field for a bad body, and changes nothing', async () => {
    const owner = await signUp(h.app);
    const { sessionId, recording } = await readyRecording(owner, 'Kept');
    const before = await rowOf(sessionId);
    const cases: [unknown, string][] = [
      [{}, '(request)'],
      [{ title: '' }, 'title'],
      [{ title: '   ' }, 'title'],
      [{ title: 'x'.repeat(201) }, 'title'],
      [{ title: 42 }, 'title'],
      [{ visibility: 'secret' }, 'visibility'],
      [{ title: 'Fine', owner: stranger.id }, '(request)'],
      [[], '(request)'],
    ];
    for (const [body, field] of cases) {
      const response = await patch(recording.id, body, owner);
      expect([JSON.stringify(body), ...codeOf(response)]).toEqual([JSON.stringify(body), 400, 'VALIDATION_FAILED']);
      expect(Object.keys(response.json().error.fields)).toContain(field);
    }
    expect(codeOf(await patch('nope', { title: 'x' }, owner))).toEqual([400, 'VALIDATION_FAILED']);
    expect(await rowOf(sessionId)).toEqual(before);
  });
});

describe('rate limit', () => {
  it('limits an account’s edits (editRecording: 429 with Retry-After), reads are not counted', async () => {
    const limited = await startHarness({ rateLimits: { ...generousLimits, rules: { ...generousLimits.rules, editRecording: { max: 2, windowSec: 60 } } } }, { SFU_URL: 'http://127.0.0.1:9' });
    try {
      const owner = await signUp(limited.app);
      const sessionId = await endedLive(limited.app, owner);
      const id = (await reportFinished(limited.app, limited.config.secrets.mediaToken, sessionId, readyBody(sessionId))).json().id as string;
      const edit = (title: string) => limited.app.inject({ method: 'PATCH', url: `/api/recordings/${id}`, payload: { title }, headers: bearer(owner.accessToken) });
      expect((await edit('One')).statusCode).toBe(200);
      expect((await limited.app.inject({ method: 'GET', url: `/api/recordings/${id}` })).statusCode).toBe(200);
      expect((await edit('Two')).statusCode).toBe(200);
      const refused = await edit('Three');
      expect(codeOf(refused)).toEqual([429, 'RATE_LIMITED']);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      const removed = await limited.app.inject({ method: 'DELETE', url: `/api/recordings/${id}`, headers: bearer(owner.accessToken) });
      expect(codeOf(removed)).toEqual([429, 'RATE_LIMITED']);
      expect((await limited.app.inject({ method: 'GET', url: `/api/recordings/${id}` })).json().title).toBe('Two');
    } finally {
      await limited.close();
    }
  });
});

describe('POST /api/recordings/:id/views', () => {
  it('counts a play once an hour per viewer (account, or address signed out), never the owner’s, and only of what the caller may see', async () => {
    const counted = await startHarness({ rateLimits: { ...generousLimits, rules: { ...generousLimits.rules, recordingView: { max: 1, windowSec: 3600 } } } }, { SFU_URL: 'http://127.0.0.1:9' });
    try {
      const [owner, viewer] = [await signUp(counted.app), await signUp(counted.app)];
      const sessionId = await endedLive(counted.app, owner);
      const id = (await reportFinished(counted.app, counted.config.secrets.mediaToken, sessionId, readyBody(sessionId))).json().id as string;
      const play = async (who?: Account, remoteAddress = '127.0.0.1', recording = id) => {
        const response = await counted.app.inject({ method: 'POST', url: `/api/recordings/${recording}/views`, remoteAddress, ...(who ? { headers: bearer(who.accessToken) } : {}) });
        return response.statusCode === 200 ? response.json() : codeOf(response);
      };
      expect(await play(owner)).toEqual({ views: 0, counted: false });
      expect(await play(viewer)).toEqual({ views: 1, counted: true });
      expect(await play(viewer)).toEqual({ views: 1, counted: false });
      expect(await play(undefined, '203.0.113.7')).toEqual({ views: 2, counted: true });
      expect(await play(undefined, '203.0.113.7')).toEqual({ views: 2, counted: false });
      expect(await play(undefined, '203.0.113.8')).toEqual({ views: 3, counted: true });
      expect((await counted.app.inject({ method: 'GET', url: `/api/recordings/${id}` })).json().views).toBe(3);

      // Made private: only the owner sees it, and their plays do not count.
      expect((await counted.app.inject({ method: 'PATCH', url: `/api/recordings/${id}`, payload: { visibility: 'private' }, headers: bearer(owner.accessToken) })).statusCode).toBe(200);
      expect(await play(undefined, '203.0.113.9')).toEqual([404, 'RECORDING_NOT_FOUND']);
      expect(await play(owner)).toEqual({ views: 3, counted: false });
      expect(await play(undefined, '127.0.0.1', 'not-an-id')).toEqual([400, 'VALIDATION_FAILED']);
    } finally {
      await counted.close();
    }
  });
});

describe('public and private URLs', () => {
  it('serves a public recording through stable URLs under which the playlists’ relative URIs resolve; never the manifest', async () => {
    const { sessionId, recording } = await readyRecording(host);
    const master = await get(recording.playlistUrl ?? '');
    expect(master.statusCode).toBe(200);
    expect(master.headers['cache-control']).toBe('no-cache');
    const media = await get(new URL('r0/index.m3u8', `http://x${recording.playlistUrl}`).pathname);
    expect(media.body).toContain('seg-00000.m4s');
    const segment = await get(new URL('seg-00001.m4s', `http://x/api/media/recordings/${sessionId}/live/r0/index.m3u8`).pathname);
    expect(segment.statusCode).toBe(200);
    expect(segment.headers['content-type']).toBe('video/iso.segment');
    expect(segment.body).toBe('segment 1');
    expect((await get(recording.thumbnailUrl ?? '')).headers['content-type']).toBe('image/jpeg');
    expect((await get(recording.renditions[0]?.url ?? '')).body).toBe('mp4 bytes');
    expect((await get(`/api/media/recordings/${sessionId}/live/manifest.json`)).statusCode).toBe(404);
  });

  it('gives a private recording only signed, expiring links; a stranger can fetch neither its playlists nor its segments', async () => {
    const { sessionId, recording } = await readyRecording(host);
    const publicUrls = [recording.playlistUrl, recording.thumbnailUrl, recording.renditions[0]?.url, `/api/media/recordings/${sessionId}/live/r0/seg-00000.m4s`, `/api/media/recordings/${sessionId}/live/master.m3u8`];
    const own = (await patch(recording.id, { visibility: 'private' }, host)).json() as Recording;

    // Everything the stable URLs served is gone for everyone, the owner included (they get links).
    for (const url of publicUrls) for (const who of [undefined, stranger, host]) expect((await get(url ?? '', who)).statusCode).toBe(404);

    // The owner's links: signed, expiring.
    const playlistUrl = own.playlistUrl ?? '';
    expect(playlistUrl).toMatch(new RegExp(`^/api/recordings/${recording.id}/hls/live/master\\.m3u8\\?exp=\\d+&sig=[\\w-]+$`));
    for (const url of [own.thumbnailUrl, own.renditions[0]?.url]) expect(url).toMatch(/\/api\/storage\/recordings\/.+\?exp=\d+&sig=[\w-]+$/);
    expect((await fetchOwn(h.app, own.thumbnailUrl ?? '')).body).toBe('jpeg bytes');

    // The master playlist, fetched with no credentials: its media playlist is signed again...
    const master = await fetchOwn(h.app, playlistUrl);
    expect(master.statusCode).toBe(200);
    expect(master.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(master.headers['cache-control']).toBe('private, no-store');
    const child = master.body.split('\n').find((line) => line.includes('index.m3u8')) ?? '';
    expect(child).toMatch(new RegExp(`^/api/recordings/${recording.id}/hls/live/r0/index\\.m3u8\\?exp=\\d+&sig=[\\w-]+$`));
    // ...whose init segment and chunks are signed storage links that work.
    const media = await fetchOwn(h.app, child);
    expect(media.statusCode).toBe(200);
    const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(media.body)?.[1] ?? '';
    const chunks = media.body.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(chunks).toHaveLength(2);
    expect(media.body).toContain('#EXT-X-ENDLIST');
    expect((await fetchOwn(h.app, map)).body).toBe('init bytes');
    expect((await fetchOwn(h.app, chunks[1] ?? '')).body).toBe('segment 1');

    // A stranger without the links: nothing.
    const bare = (url: string) => url.split('?')[0] ?? '';
    expect(codeOf(await get(bare(playlistUrl), stranger))).toEqual([403, 'STORAGE_SIGNATURE_INVALID']);
    expect(codeOf(await get(`${bare(child)}?exp=9999999999&sig=forged`, stranger))).toEqual([403, 'STORAGE_SIGNATURE_INVALID']);
    expect(codeOf(await fetchOwn(h.app, bare(chunks[0] ?? ''), bearer(stranger.accessToken)))).toEqual([403, 'STORAGE_SIGNATURE_INVALID']);
    // A link is for one recording: another recording's signature does not open this one.
    const other = await readyRecording(host);
    await patch(other.recording.id, { visibility: 'private' }, host);
    const otherLink = ((await get(`/api/recordings/${other.recording.id}`, host)).json() as Recording).playlistUrl ?? '';
    const swapped = otherLink.replace(other.recording.id, recording.id);
    expect(codeOf(await get(swapped, stranger))).toEqual([403, 'STORAGE_SIGNATURE_INVALID']);
    // And it expires.
    const expired = new PlaylistLinks(h.config.secrets.jwtAccess).url(recording.id, 'live/master.m3u8', -10);
    expect(codeOf(await get(expired))).toEqual([403, 'STORAGE_LINK_EXPIRED']);
  });
});

describe('DELETE /api/recordings/:id', () => {
  it('lets only the owner delete it (401, 403, 404), and not while the finishing job may still write (409)', async () => {
    const owner = await signUp(h.app);
    const { recording } = await readyRecording(owner);
    expect(codeOf(await remove(recording.id))).toEqual([401, 'UNAUTHENTICATED']);
    expect(codeOf(await remove(recording.id, stranger))).toEqual([403, 'NOT_RECORDING_OWNER']);
    await patch(recording.id, { visibility: 'private' }, owner);
    expect(codeOf(await remove(recording.id, stranger))).toEqual([404, 'RECORDING_NOT_FOUND']);
    expect((await get(`/api/recordings/${recording.id}`, owner)).statusCode).toBe(200);

    const processingId = await endedLive(h.app, owner);
    const processing = await rowOf(processingId);
    expect(codeOf(await remove(processing?.id ?? '', owner))).toEqual([409, 'RECORDING_PROCESSING']);
    // A finishing job silent for over an hour is taken for lost.
    await h.testDb.db.execute(sql`update recordings set created_at = now() - interval '2 hours' where session_id = ${processingId}`);
    expect((await remove(processing?.id ?? '', owner)).statusCode).toBe(204);
  });

  it('removes every object of the recording (VOD, thumbnail, live chunks and playlists), then the row', async () => {
    const owner = await signUp(h.app);
    const { sessionId, recording, keys } = await readyRecording(owner);
    const neighbour = await readyRecording(owner);
    for (const key of Object.values(keys)) expect(await h.app.storage.get(key)).not.toBeNull();

    const response = await remove(recording.id, owner);
    expect(response.statusCode).toBe(204);
    for (const key of Object.values(keys)) expect([key, await h.app.storage.get(key)]).toEqual([key, null]);
    expect(await rowOf(sessionId)).toBeUndefined();
    const [session] = await queryRows<{ recording_id: string | null }>(h.testDb.db, sql`select recording_id from live_sessions where id = ${sessionId}`);
    expect(session?.recording_id).toBeNull();
    expect(codeOf(await get(`/api/recordings/${recording.id}`, owner))).toEqual([404, 'RECORDING_NOT_FOUND']);
    expect(codeOf(await remove(recording.id, owner))).toEqual([404, 'RECORDING_NOT_FOUND']);
    // The other recording of the same owner is untouched.
    for (const key of Object.values(neighbour.keys)) expect(await h.app.storage.get(key)).not.toBeNull();
  });
});

describe('recordings on S3 (s3rver)', () => {
  it('presigns a private recording’s files, rewrites its playlists to presigned segments, and deletes every object', async () => {
    const s3 = await startS3rverProcess();
    const testDb = await createTestDb('postgres');
    const base = await testConfig({ SFU_URL: 'http://127.0.0.1:9' });
    const config: Config = { ...base, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 }, rateLimits: generousLimits };
    const { logger } = captureLogger();
    const bus = new InProcessBus({ logger });
    const { mailer } = await localFiles(config, logger);
    const app: FastifyInstance = build(config, { logger, bus, db: databaseHandle(testDb), storage: s3.storage, mailer });
    try {
      await app.ready();
      const owner = await signUp(app);
      const sessionId = await endedLive(app, owner);
      const keys = await seedObjects(s3.storage, sessionId);
      const finished = await reportFinished(app, config.secrets.mediaToken, sessionId, readyBody(sessionId));
      expect(finished.statusCode).toBe(200);
      const id = (finished.json() as Recording).id;
      const own = (await app.inject({ method: 'PATCH', url: `/api/recordings/${id}`, payload: { visibility: 'private' }, headers: bearer(owner.accessToken) })).json() as Recording;

      // Presigned (SigV4) S3 URLs straight to the bucket, for an hour. s3rver does not check V4
      // signatures, so what the bucket refuses without one is AWS's business, not tested here.
      const thumbnail = own.thumbnailUrl ?? '';
      expect(thumbnail.startsWith(`${s3.endpoint}/media/${keys.thumbnail}?`)).toBe(true);
      expect(thumbnail).toMatch(/X-Amz-Expires=3600&.*X-Amz-Signature=[0-9a-f]{64}/);
      expect(await (await fetch(thumbnail)).text()).toBe('jpeg bytes');

      const master = await fetchOwn(app, own.playlistUrl ?? '');
      const child = master.body.split('\n').find((line) => line.includes('index.m3u8')) ?? '';
      const media = await fetchOwn(app, child);
      const chunk = media.body.split('\n').find((line) => line.includes('seg-00000.m4s')) ?? '';
      expect(chunk.startsWith(`${s3.endpoint}/media/${keys.seg0}?`)).toBe(true);
      expect(chunk).toMatch(/X-Amz-Expires=14400&.*X-Amz-Signature=[0-9a-f]{64}/);
      expect(await (await fetch(chunk)).text()).toBe('segment 0');

      expect((await app.inject({ method: 'DELETE', url: `/api/recordings/${id}`, headers: bearer(owner.accessToken) })).statusCode).toBe(204);
      for (const key of Object.values(keys)) expect([key, await s3.storage.get(key)]).toEqual([key, null]);
    } finally {
      await app.close();
      await bus.close();
      await testDb.close();
      await s3.close();
    }
  }, 30_000);
});
