import type { Report } from '@podlive/shared/social';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, signUp, startHarness, type Harness } from '../accounts/harness';
import { createLive } from '../live/harness';
import { codeOf, get, makeAdmin, send } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

describe('POST /api/reports', () => {
  it('creates a report (201); a retry while it is open returns the same one (200), stored once', async () => {
    const [reporter, target] = await Promise.all([signUp(h.app), signUp(h.app)]);
    const body = { targetKind: 'user', targetId: target.id, reason: '  Spam in every <script>alert(1)</script> live  ' };
    const before = await countRows(h.testDb, 'reports');
    const first = await send(h.app, 'POST', '/api/reports', reporter, body);
    expect(first.statusCode).toBe(201);
    const report = first.json() as Report;
    expect(report).toMatchObject({ targetKind: 'user', targetId: target.id, reason: 'Spam in every <script>alert(1)</script> live', status: 'open', reporter: { id: reporter.id, handle: reporter.handle } });
    const again = await send(h.app, 'POST', '/api/reports', reporter, { ...body, reason: 'another wording' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(report);
    const raced = await Promise.all([0, 1, 2].map(() => send(h.app, 'POST', '/api/reports', reporter, body)));
    expect(raced.map((r) => (r.json() as Report).id)).toEqual([report.id, report.id, report.id]);
    expect(await countRows(h.testDb, 'reports')).toBe(before + 1);
  });

  it('reports a live session by id; 404 for a target that does not exist', async () => {
    const [reporter, host] = await Promise.all([signUp(h.app), signUp(h.app)]);
    const sessionId = await createLive(h.app, host);
    expect((await send(h.app, 'POST', '/api/reports', reporter, { targetKind: 'session', targetId: sessionId, reason: 'Offensive title' })).statusCode).toBe(201);
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const targetKind of ['user', 'session', 'chat_message']) {
      expect(codeOf(await send(h.app, 'POST', '/api/reports', reporter, { targetKind, targetId: missing, reason: 'x' }))).toEqual([404, 'REPORT_TARGET_NOT_FOUND']);
    }
    // A user's id is not a session's.
    expect(codeOf(await send(h.app, 'POST', '/api/reports', reporter, { targetKind: 'session', targetId: host.id, reason: 'x' }))).toEqual([404, 'REPORT_TARGET_NOT_FOUND']);
  });

  it('refuses hostile and malformed bodies with 400 and stores nothing', async () => {
    const [reporter, target] = await Promise.all([signUp(h.app), signUp(h.app)]);
    const before = await countRows(h.testDb, 'reports');
    const base = { targetKind: 'user', targetId: target.id };
    for (const body of [
      { ...base, reason: '   ' },
      { ...base, reason: 'x'.repeat(2001) },
      { ...base, reason: 'nul \u0000 inside' },
      { ...base, reason: 'bell \u0007' },
      { ...base, reason: 'bidi \u202E override' },
      { ...base, reason: 42 },
      { ...base, targetKind: 'recording', reason: 'x' },
      { ...base, targetId: "1' or '1'='1", reason: 'x' },
      { ...base, reason: 'x', extra: true },
    ]) {
      expect(codeOf(await send(h.app, 'POST', '/api/reports', reporter, body))).toEqual([400, 'VALIDATION_FAILED']);
    }
    expect(await countRows(h.testDb, 'reports')).toBe(before);
    expect(codeOf(await h.app.inject({ method: 'POST', url: '/api/reports', payload: { ...base, reason: 'x' } }))).toEqual([401, 'UNAUTHENTICATED']);
    // Line breaks are fine in a reason.
    expect((await send(h.app, 'POST', '/api/reports', reporter, { ...base, reason: 'first line\nsecond line' })).statusCode).toBe(201);
  });
});

describe('GET /api/admin/reports', () => {
  it('is for staff only (403 otherwise) and pages the open queue oldest first', async () => {
    const [admin, someone] = await Promise.all([signUp(h.app), signUp(h.app)]);
    await makeAdmin(h, admin);
    expect(codeOf(await get(h.app, '/api/admin/reports?status=open', someone))).toEqual([403, 'FORBIDDEN']);
    expect(codeOf(await get(h.app, '/api/admin/reports'))).toEqual([401, 'UNAUTHENTICATED']);
    expect(codeOf(await get(h.app, '/api/admin/reports?status=closed', admin))).toEqual([400, 'VALIDATION_FAILED']);

    const seen: Report[] = [];
    let cursor: string | null = null;
    do {
      const response = await get(h.app, `/api/admin/reports?status=open&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, admin);
      expect(response.statusCode).toBe(200);
      const body = response.json() as { items: Report[]; nextCursor: string | null };
      seen.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor !== null);
    expect(seen.length).toBe(await countRows(h.testDb, 'reports'));
    expect(seen.every((r) => r.status === 'open')).toBe(true);
    const times = seen.map((r) => r.createdAt);
    expect(times).toEqual([...times].sort());
    expect((await get(h.app, '/api/admin/reports?status=resolved', admin)).json()).toEqual({ items: [], nextCursor: null });
  });
});
