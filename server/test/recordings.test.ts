import { queryRows, sql } from '@podlive/db';
import { createTestDb } from '@podlive/db/testing';
import type { WsEvent } from '@podlive/shared/live';
import { type Recording, recorderStartBody, recordingKeys, type RecordingsPage } from '@podlive/shared/recording';
import { signAccessToken } from '@podlive/shared/accounts';
import { signControlToken, signMediaToken, verifyControlToken } from '@podlive/shared/tokens';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { InProcessBus } from '../src/bus';
import type { Config } from '../src/config';
import { databaseHandle } from '../src/db';
import { PlaylistLinks } from '../src/features/recordings/private-hls';
import { bearer, generousLimits, localFiles, post, signUp, startHarness, type Account, type Harness } from './accounts/harness';
import { captureLogger, testConfig } from './helpers';
import { createLive, openWs, startLive, type WsClient } from './live/harness';
import { endedLive, FakeRecorder, fetchOwn, isStart, isStop, readyBody, reportFinished, seedObjects } from './recordings/harness';
import { startS3rverProcess } from './s3rver-process';

let recorder: FakeRecorder;
let h: Harness;
let host: Account;
let stranger: Account;
const sockets: WsClient[] = [];
beforeAll(async () => {
  recorder = await FakeRecorder.start();
  // No media node: SFU_URL points nowhere, which only the end's room close notices (and logs).
  h = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9', RECORDER_URL: recorder.url });
  host = await signUp(h.app, { displayName: 'The Host' });
  stranger = await signUp(h.app);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await h.close();
  await recorder.close();
});

const secret = () => h.config.secrets.mediaToken;
const get = (url: string, who?: Account) => h.app.inject({ method: 'GET', url, headers: who === undefined ? {} : bearer(who.accessToken) });
const patch = (id: string, payload: unknown, who?: Account) =>
  h.app.inject({ method: 'PATCH', url: `/api/recordings/${id}`, payload: payload as object, headers: who === undefined ? {} : bearer(who.accessToken) });
const remove = (id: string, who?: Account) => h.app.inject({ method: 'DELETE', url: `/api/recordings/${id}`, headers: who === undefined ? {} : bearer(who.accessToken) });
const codeOf = (response: LightMyRequestResponse) => [response.statusCode, (response.json() as { error?: { code: string } }).error?.code];
const page = (response: LightMyRequestResponse) => response.json() as RecordingsPage;

/** The recording row of a session, straight from the database. */
async function rowOf(sessionId: string) {
  const [row] = await queryRows<{ id: string; status: string; title: string; visibility: string; updated_at: Date | string }>(
    h.testDb.db,
    sql`select id, status, title, visibility, updated_at from recordings where session_id = ${sessionId}`,
  );
  return row;
}

const notificationsOf = (userId: string) =>
  queryRows<{ kind: string; payload: Record<string, unknown> }>(h.testDb.db, sql`select kind, payload from notifications where user_id = ${userId} order by created_at`);

/** A ready recording of a fresh ended live of `owner`, its objects in storage. */
async function readyRecording(owner: Account, title = 'My show'): Promise<{ sessionId: string; recording: Recording; keys: Record<string, string> }> {
  const sessionId = await endedLive(h.app, owner, title);
  const keys = await seedObjects(h.app.storage, sessionId);
  const response = await reportFinished(h.app, secret(), sessionId, readyBody(sessionId));
  if (response.statusCode !== 200) throw new Error(`finishing failed: ${response.body}`);
  return { sessionId, recording: response.json() as Recording, keys };
}

/** A /ws connection of `who` whose user channel is joined (a ping round trip proves it: messages run in order). */
async function userSocket(who: Account): Promise<WsClient> {
  const socket = await openWs(h.app, bearer(who.accessToken));
  sockets.push(socket);
  await barrier(socket);
  return socket;
}

/** Whatever was published before this resolves has reached `socket` (the in-process bus delivers at publish). */
async function barrier(socket: WsClient): Promise<void> {
  const from = socket.events.length;
  socket.send({ type: 'ping' });
  await socket.next((e) => e.type === 'pong', from);
}

describe('recording with the live (recorder control)', () => {
  it('tells the recorder to record from the origin when a live starts, and to stop when it ends', async () => {
    const from = recorder.calls.length;
    const id = await createLive(h.app, host, { title: 'Episode one' });
    const started = await startLive(h.app, host, id);
    const live = `/api/media/recordings/${id}/live/master.m3u8`;
    expect((started.session as { hlsUrl?: string }).hlsUrl).toBe(live);
    expect((await get(`/api/live/${id}`)).json().hlsUrl).toBe(live);

    const start = await recorder.next(isStart(id), from);
    expect(start.method).toBe('POST');
    const control = start.authorization?.replace(/^Bearer /, '') ?? '';
    expect(await verifyControlToken(secret(), control, 'recorder')).toBe(true);
    expect(await verifyControlToken(secret(), control, 'server')).toBe(false);
    // Exactly the contract's body (strict): the origin's id and its protoo URL on the internal address.
    expect(recorderStartBody.parse(start.body)).toEqual({ sessionId: id, hostId: host.id, node: { id: 'local', url: 'ws://127.0.0.1:9' } });

    // The live HLS is public while the live is on.
    await h.app.storage.put(recordingKeys(id).liveMaster, Buffer.from('#EXTM3U\n'), 'application/vnd.apple.mpegurl');
    const playlist = await get(live);
    expect(playlist.statusCode).toBe(200);
    expect(playlist.headers['content-type']).toBe('application/vnd.apple.mpegurl');
    expect(playlist.body).toBe('#EXTM3U\n');

    const ended = await post(h.app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
    expect(ended.json()).toMatchObject({ status: 'ended', hlsUrl: null });
    const stop = await recorder.next(isStop(id), from);
    expect(stop.method).toBe('POST');
    expect(await verifyControlToken(secret(), stop.authorization?.replace(/^Bearer /, '') ?? '', 'recorder')).toBe(true);
    expect(recorder.calls.indexOf(start)).toBeLessThan(recorder.calls.indexOf(stop));

    // The recording is on the owner's profile at once, processing; nobody else sees it yet.
    const own = page(await get(`/api/users/${host.handle}/recordings`, host));
    expect(own.items[0]).toMatchObject({ sessionId: id, title: 'Episode one', status: 'processing', visibility: 'public', playlistUrl: null, owner: { id: host.id } });
    expect(page(await get(`/api/users/${host.handle}/recordings`, stranger)).items.some((r) => r.sessionId === id)).toBe(false);
    const [session] = await queryRows<{ recording_id: string }>(h.testDb.db, sql`select recording_id from live_sessions where id = ${id}`);
    expect(session?.recording_id).toBe(own.items[0]?.id);
  });

  it('tells the recorder again when the live moves to a new origin', async () => {
    const owner = await signUp(h.app);
    const id = await createLive(h.app, owner);
    const from = recorder.calls.length;
    await startLive(h.app, owner, id);
    await recorder.next(isStart(id), from);
    // The origin died: the registry no longer knows it, so the studio's start moves the live.
    await h.testDb.db.execute(sql`update live_sessions set origin_node_id = 'gone' where id = ${id}`);
    const moved = recorder.calls.length;
    await startLive(h.app, owner, id);
    const again = await recorder.next(isStart(id), moved);
    expect(recorderStartBody.parse(again.body)).toEqual({ sessionId: id, hostId: owner.id, node: { id: 'local', url: 'ws://127.0.0.1:9' } });
    expect(await verifyControlToken(secret(), again.authorization?.replace(/^Bearer /, '') ?? '', 'recorder')).toBe(true);
    await post(h.app, `/api/live/${id}/end`, {}, bearer(owner.accessToken));
  });

  it('never makes going live or ending wait for, or fail because of, the recorder', async () => {
    const owner = await signUp(h.app);
    const id = await createLive(h.app, owner);
    recorder.hang = true;
    try {
      const from = recorder.calls.length;
      const began = Date.now();
      await startLive(h.app, owner, id);
      // The recorder holds the request (the client gives up after 3 s); the start did not wait.
      await recorder.next(isStart(id), from);
      expect(Date.now() - began).toBeLessThan(2500);
    } finally {
      recorder.hang = false;
      recorder.release();
    }
    recorder.status = 500;
    try {
      const from = recorder.calls.length;
      const ended = await post(h.app, `/api/live/${id}/end`, {}, bearer(owner.accessToken));
      expect(ended.statusCode).toBe(200);
      await recorder.next(isStop(id), from);
    } finally {
      recorder.status = 202;
    }
    expect((await rowOf(id))?.status).toBe('processing');
  });

  it('records nothing without RECORDER_URL: no live HLS, no recording row', async () => {
    const off = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9' });
    try {
      const owner = await signUp(off.app);
      const id = await createLive(off.app, owner);
      const started = await startLive(off.app, owner, id);
      expect((started.session as { hlsUrl?: string | null }).hlsUrl).toBeNull();
      expect((await off.app.inject({ method: 'GET', url: `/api/media/recordings/${id}/live/master.m3u8` })).statusCode).toBe(404);
      await post(off.app, `/api/live/${id}/end`, {}, bearer(owner.accessToken));
      const [row] = await queryRows<{ n: number }>(off.testDb.db, sql`select count(*)::int as n from recordings where session_id = ${id}`);
      expect(row?.n).toBe(0);
    } finally {
      await off.close();
    }
  });
});

describe('PUT /internal/recordings/:sessionId (the finishing job’s report)', () => {
  it('refuses anything but a control token for the server (401) and changes nothing', async () => {
    const id = await endedLive(h.app, host);
    const before = await rowOf(id);
    const media = await signMediaToken(secret(), { sid: id, sub: 'recorder', role: 'recorder', node: 'server' });
    const refused = [
      '',
      'Bearer',
      'Bearer not-a-token',
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${await signControlToken(secret(), 'recorder')}`,
      `Bearer ${await signControlToken(secret(), 'local')}`,
      `Bearer ${await signControlToken('another-secret-another-secret-another-secret', 'server')}`,
      `Bearer ${media}`,
      `Bearer ${host.accessToken}`,
      `Bearer ${await signAccessToken(h.config.secrets.jwtAccess, { sub: host.id, handle: host.handle })}`,
    ];
    for (const authorization of refused) {
      const response = await reportFinished(h.app, secret(), id, readyBody(id), authorization);
      expect([authorization, ...codeOf(response)]).toEqual([authorization, 401, 'UNAUTHORIZED']);
    }
    expect(await rowOf(id)).toEqual(before);
    expect(await notificationsOf(host.id)).toEqual([]);
  });

  it('answers 400 for a bad report (keys outside the recording included), 404 for an unknown live, 409 for a live still on', async () => {
    const id = await endedLive(h.app, host);
    const before = await rowOf(id);
    const other = recordingKeys('00000000-0000-4000-8000-000000000000');
    const bad = [
      { ...readyBody(id), status: 'done' },
      { ...readyBody(id), durationSec: -1 },
      { ...readyBody(id), extra: true },
      readyBody(id, { masterKey: other.liveMaster }),
      readyBody(id, { thumbnailKey: 'avatars/x.webp' }),
      readyBody(id, { renditions: [{ ...readyBody(id).renditions[0]!, key: `${recordingKeys(id).root}/../../secrets.mp4` }] }),
    ];
    for (const body of bad) {
      const response = await reportFinished(h.app, secret(), id, body);
      expect(codeOf(response)).toEqual([400, 'VALIDATION_FAILED']);
      expect(Object.keys(response.json().error.fields).length).toBeGreaterThan(0);
    }
    const outside = await reportFinished(h.app, secret(), id, readyBody(id, { masterKey: other.liveMaster }));
    expect(outside.json().error.fields).toEqual({ masterKey: `Must be a storage key under ${recordingKeys(id).root}/` });
    expect(await rowOf(id)).toEqual(before);

    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(codeOf(await reportFinished(h.app, secret(), unknown, readyBody(unknown)))).toEqual([404, 'LIVE_NOT_FOUND']);
    expect(codeOf(await reportFinished(h.app, secret(), 'nope', readyBody(id)))).toEqual([400, 'VALIDATION_FAILED']);
    const owner = await signUp(h.app);
    const live = await createLive(h.app, owner);
    await startLive(h.app, owner, live);
    expect(codeOf(await reportFinished(h.app, secret(), live, readyBody(live)))).toEqual([409, 'CONFLICT']);
    await post(h.app, `/api/live/${live}/end`, {}, bearer(owner.accessToken));
  });

  it('makes the recording ready, notifies the host once (a stored notification and recording_ready on /ws), and a repeat changes nothing', async () => {
    const owner = await signUp(h.app);
    const [tab, other] = await Promise.all([userSocket(owner), userSocket(stranger)]);
    const id = await endedLive(h.app, owner, 'Ready show');
    const processing = await rowOf(id);
    await seedObjects(h.app.storage, id);

    const first = await reportFinished(h.app, secret(), id, readyBody(id));
    expect(first.statusCode).toBe(200);
    const recording = first.json() as Recording;
    expect(recording).toMatchObject({
      id: processing?.id, sessionId: id, title: 'Ready show', status: 'ready', visibility: 'public', durationSec: 42, sizeBytes: 9,
      playlistUrl: `/api/media/recordings/${id}/live/master.m3u8`,
      thumbnailUrl: `/api/media/recordings/${id}/thumbnail.jpg`,
      renditions: [{ name: '360p', width: 640, height: 360, bitrateKbps: 800, url: `/api/media/recordings/${id}/vod/360p.mp4` }],
      owner: { id: owner.id, handle: owner.handle },
    });
    const event = await tab.next((e: WsEvent) => e.type === 'recording_ready');
    expect(event).toEqual({ type: 'recording_ready', recording });
    expect(await notificationsOf(owner.id)).toEqual([{ kind: 'recording_ready', payload: { recordingId: recording.id, sessionId: id, title: 'Ready show' } }]);

    const ready = await rowOf(id);
    const again = await reportFinished(h.app, secret(), id, readyBody(id));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(recording);
    expect(await rowOf(id)).toEqual(ready);
    expect(await notificationsOf(owner.id)).toHaveLength(1);
    await Promise.all([barrier(tab), barrier(other)]);
    expect(tab.events.filter((e) => e.type === 'recording_ready')).toHaveLength(1);
    expect(other.events.some((e) => e.type === 'recording_ready')).toBe(false);
  });

  it('creates the recording when none exists (upsert), and notifies on failed → ready only', async () => {
    const owner = await signUp(h.app);
    const id = await endedLive(h.app, owner, 'Late show');
    await h.testDb.db.execute(sql`delete from recordings where session_id = ${id}`);
    const failed = await reportFinished(h.app, secret(), id, { status: 'failed', durationSec: 0, sizeBytes: 0, renditions: [], masterKey: null, thumbnailKey: null, error: 'ffmpeg exited 1' });
    expect(failed.statusCode).toBe(200);
    expect(failed.json()).toMatchObject({ status: 'failed', title: 'Late show', owner: { id: owner.id }, playlistUrl: null });
    const [session] = await queryRows<{ recording_id: string }>(h.testDb.db, sql`select recording_id from live_sessions where id = ${id}`);
    expect(session?.recording_id).toBe(failed.json().id);
    expect(await notificationsOf(owner.id)).toEqual([]);
    const ready = await reportFinished(h.app, secret(), id, readyBody(id));
    expect(ready.json()).toMatchObject({ id: failed.json().id, status: 'ready' });
    expect(await notificationsOf(owner.id)).toHaveLength(1);
  });
});

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
