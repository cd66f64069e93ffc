import { queryRows, sql } from '@podlive/db';
import type { WsEvent } from '@podlive/shared/ws';
import { type Recording, recorderStartBody, recorderStopBody, recordingKeys } from '@podlive/shared/recording';
import { signAccessToken } from '@podlive/shared/accounts';
import { forgedTokens, testKeyPair } from '@podlive/shared/testing/keys';
import { CONTROL_TOKEN_AUDIENCE, signControlToken, signMediaToken, verifyControlToken, verifyMediaToken } from '@podlive/shared/tokens';
import sharp from 'sharp';
import { buffer } from 'node:stream/consumers';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { bearer, post, signUp, startHarness } from './accounts/harness';
import { createLive, multipart, startLive } from './live/harness';
import { endedLive, isStart, isStop, readyBody, reportFinished, seedObjects } from './recordings/harness';
import { recorder, h, host, stranger, useRecordingsHarness, secret, pub, get, codeOf, page, notificationsOf, rowOf, userSocket, barrier } from './recordings/setup';

useRecordingsHarness();

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
    expect(await verifyControlToken(pub(), control, { node: 'recorder', scope: 'recording:start' })).toBe(true);
    expect(await verifyControlToken(pub(), control, { node: 'server', scope: 'recording:start' })).toBe(false);
    expect(await verifyControlToken(pub(), control, { node: 'recorder', scope: 'recording:stop' })).toBe(false);
    // Exactly the contract's body (strict): the origin's id, its protoo URL on the internal address,
    // and the recorder's media token for it (the recorder signs nothing itself).
    const body = recorderStartBody.parse(start.body);
    expect(body).toEqual({ sessionId: id, hostId: host.id, node: { id: 'local', url: 'ws://127.0.0.1:9', token: expect.any(String) }, reportToken: expect.any(String) });
    expect(await verifyMediaToken(pub(), body.node.token, 'local')).toMatchObject({ sid: id, sub: 'recorder', role: 'recorder', node: 'local' });
    expect(await verifyControlToken(pub(), body.reportToken, { node: 'server', scope: 'recording:report', sid: id })).toBe(true);

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
    expect(await verifyControlToken(pub(), stop.authorization?.replace(/^Bearer /, '') ?? '', { node: 'recorder', scope: 'recording:stop' })).toBe(true);
    // The token the finishing job reports with: for the server, this live only.
    const { reportToken } = recorderStopBody.parse(stop.body);
    expect(await verifyControlToken(pub(), reportToken, { node: 'server', scope: 'recording:report', sid: id })).toBe(true);
    expect(await verifyControlToken(pub(), reportToken, { node: 'server', scope: 'recording:report', sid: randomUUID() })).toBe(false);
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
    expect(recorderStartBody.parse(again.body)).toEqual({ sessionId: id, hostId: owner.id, node: { id: 'local', url: 'ws://127.0.0.1:9', token: expect.any(String) }, reportToken: expect.any(String) });
    expect(await verifyControlToken(pub(), again.authorization?.replace(/^Bearer /, '') ?? '', { node: 'recorder', scope: 'recording:start' })).toBe(true);
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
  it('refuses anything but a report token for the server and this live (401 UNAUTHENTICATED) and changes nothing', async () => {
    const id = await endedLive(h.app, host);
    const before = await rowOf(id);
    const media = await signMediaToken(secret(), { sid: id, sub: 'recorder', role: 'recorder', node: 'server' });
    const report = { node: 'server', scope: 'recording:report', sid: id } as const;
    const forged = await forgedTokens(report, CONTROL_TOKEN_AUDIENCE, h.config.secrets.mediaTokenPublic.export({ type: 'spki', format: 'pem' }).toString());
    const refused = [
      '',
      'Bearer',
      'Bearer not-a-token',
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      `Bearer ${await signControlToken(secret(), { ...report, node: 'recorder' })}`,
      `Bearer ${await signControlToken(secret(), { ...report, node: 'local' })}`,
      `Bearer ${await signControlToken(secret(), { ...report, scope: 'recording:start' })}`,
      `Bearer ${await signControlToken(secret(), { ...report, sid: randomUUID() })}`,
      `Bearer ${await signControlToken(secret(), { node: 'server', scope: 'recording:report' })}`,
      `Bearer ${await signControlToken(testKeyPair().privateKey, report)}`,
      ...Object.values(forged).map((token) => `Bearer ${token}`),
      `Bearer ${media}`,
      `Bearer ${host.accessToken}`,
      `Bearer ${await signAccessToken(h.config.secrets.jwtAccess, { sub: host.id, handle: host.handle, sid: randomUUID() })}`,
    ];
    for (const authorization of refused) {
      const response = await reportFinished(h.app, secret(), id, readyBody(id), authorization);
      expect([authorization, ...codeOf(response)]).toEqual([authorization, 401, 'UNAUTHENTICATED']);
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

  it('takes the live’s own thumbnail (uploaded in the studio) over the first frame, as a copy that goes with the recording', async () => {
    const owner = await signUp(h.app);
    const id = await createLive(h.app, owner, { title: 'With a cover' });
    const png = await sharp({ create: { width: 1280, height: 720, channels: 3, background: '#c33' } }).png().toBuffer();
    const { payload, headers } = multipart('thumbnail', png);
    const uploaded = await h.app.inject({ method: 'PUT', url: `/api/live/${id}/thumbnail`, payload, headers: { ...headers, ...bearer(owner.accessToken) } });
    expect(uploaded.statusCode).toBe(200);
    const liveThumbnail = (uploaded.json().thumbnailUrl as string).replace('/api/media/', '');
    await startLive(h.app, owner, id);
    await post(h.app, `/api/live/${id}/end`, {}, bearer(owner.accessToken));
    await seedObjects(h.app.storage, id);

    const recording = (await reportFinished(h.app, secret(), id, readyBody(id))).json() as Recording;
    expect(recording.thumbnailUrl).toBe(`/api/media/${recordingKeys(id).cover}`);
    const [cover, original] = await Promise.all([h.app.storage.get(recordingKeys(id).cover), h.app.storage.get(liveThumbnail)]);
    expect(await buffer(cover!.body)).toEqual(await buffer(original!.body));
    // Deleting the recording removes the copy, not the live's thumbnail.
    expect((await h.app.inject({ method: 'DELETE', url: `/api/recordings/${recording.id}`, headers: bearer(owner.accessToken) })).statusCode).toBe(204);
    expect(await h.app.storage.get(recordingKeys(id).cover)).toBeNull();
    expect(await h.app.storage.get(liveThumbnail)).not.toBeNull();
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
