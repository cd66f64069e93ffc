import type { AppNotification, NotificationsPage } from '@podlive/shared/social';
import type { WsEvent } from '@podlive/shared/ws';
import { describe, expect, it } from 'vitest';
import { signUp } from '../accounts/harness';
import { createLive, startLive, until, useAppWithSockets } from '../live/harness';
import { codeOf, follow, get, send, userSocket } from './harness';

const t = useAppWithSockets();

type NotificationEvent = Extract<WsEvent, { type: 'notification' }>;
const isNotification = (e: WsEvent): e is NotificationEvent => e.type === 'notification';
const page = async (who: Parameters<typeof get>[2], query = '') => (await get(t.h.app, `/api/notifications${query}`, who)).json() as NotificationsPage;

describe('live_started notifications', () => {
  it('stores one per follower, sends each the notification event with their unread count, and nobody else', async () => {
    const host = await signUp(t.h.app, { displayName: 'Hana Host' });
    const [fan, other, stranger] = await Promise.all([signUp(t.h.app), signUp(t.h.app), signUp(t.h.app)]);
    await follow(t.h.app, fan, host);
    await follow(t.h.app, other, host);
    const [fanWs, strangerWs] = await Promise.all([userSocket(t.h.app, fan, t.clients), userSocket(t.h.app, stranger, t.clients)]);

    const id = await createLive(t.h.app, host, { title: 'Friday <script>alert(1)</script> night' });
    await startLive(t.h.app, host, id);

    const event = await fanWs.next(isNotification);
    const expected = { kind: 'live_started', readAt: null, payload: { sessionId: id, title: 'Friday <script>alert(1)</script> night', host: { id: host.id, handle: host.handle, displayName: 'Hana Host' } } };
    expect(event).toMatchObject({ unread: 1, notification: expected });
    expect(fanWs.events.some((e) => e.type === 'live_started' && e.session.id === id)).toBe(true);

    const stored = await page(fan);
    expect(stored).toMatchObject({ unread: 1, nextCursor: null, items: [{ ...expected, id: event.notification.id }] });
    expect((await until(async () => ((await page(other)).items.length === 1 ? true : undefined), 'the other follower’s notification'))).toBe(true);
    expect(await page(stranger)).toEqual({ items: [], unread: 0, nextCursor: null });
    expect(await page(host)).toEqual({ items: [], unread: 0, nextCursor: null });
    expect(strangerWs.events.filter(isNotification)).toEqual([]);
  });

  it('needs a signed-in caller', async () => {
    expect(codeOf(await get(t.h.app, '/api/notifications'))).toEqual([401, 'UNAUTHENTICATED']);
    expect(codeOf(await t.h.app.inject({ method: 'POST', url: '/api/notifications/read', payload: { all: true } }))).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('listing and marking read', () => {
  /** A fan of `hosts.length` hosts who each went live in turn: that many notifications, newest last. */
  async function fanOf(count: number) {
    const fan = await signUp(t.h.app);
    const ws = await userSocket(t.h.app, fan, t.clients);
    const sessions: string[] = [];
    for (let i = 0; i < count; i++) {
      const host = await signUp(t.h.app);
      await follow(t.h.app, fan, host);
      const id = await createLive(t.h.app, host, { title: `Show ${i}` });
      await startLive(t.h.app, host, id);
      await ws.next((e) => isNotification(e) && e.notification.payload.sessionId === id);
      sessions.push(id);
    }
    return { fan, ws, sessions };
  }

  it('pages newest first with a cursor, and counts unread across pages', async () => {
    const { fan, sessions } = await fanOf(5);
    const first = await page(fan, '?limit=2');
    expect(first.unread).toBe(5);
    const seen: AppNotification[] = [...first.items];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const next = await page(fan, `?limit=2&cursor=${cursor}`);
      seen.push(...next.items);
      cursor = next.nextCursor;
    }
    expect(seen.map((n) => (n.kind === 'live_started' ? n.payload.sessionId : null))).toEqual([...sessions].reverse());
    expect(new Set(seen.map((n) => n.id)).size).toBe(5);
  });

  it('marks the given ids read (only the caller’s), then all', async () => {
    const { fan } = await fanOf(3);
    const { fan: someoneElse } = await fanOf(1);
    const items = (await page(fan)).items;
    const theirs = (await page(someoneElse)).items[0]!;
    const marked = await send(t.h.app, 'POST', '/api/notifications/read', fan, { ids: [items[0]!.id, theirs.id] });
    expect(marked.statusCode).toBe(200);
    expect(marked.json()).toEqual({ unread: 2 });
    const after = await page(fan);
    expect(after.unread).toBe(2);
    expect(after.items.find((n) => n.id === items[0]!.id)?.readAt).toEqual(expect.any(String));
    expect((await page(someoneElse)).unread).toBe(1);

    expect((await send(t.h.app, 'POST', '/api/notifications/read', fan, { all: true })).json()).toEqual({ unread: 0 });
    expect((await page(fan)).items.every((n) => n.readAt !== null)).toBe(true);
    expect((await page(someoneElse)).unread).toBe(1);
  });

  it('refuses bad bodies, queries and cursors with 400', async () => {
    const fan = await signUp(t.h.app);
    for (const body of [{}, { ids: [] }, { ids: ['not-a-uuid'] }, { all: false }, { all: true, ids: [] }, { ids: Array(101).fill('00000000-0000-4000-8000-000000000000') }]) {
      expect(codeOf(await send(t.h.app, 'POST', '/api/notifications/read', fan, body))).toEqual([400, 'VALIDATION_FAILED']);
    }
    for (const query of ['?limit=0', '?limit=51', '?limit=x', '?cursor=nonsense', `?cursor=${'A'.repeat(201)}`, `?cursor=${Buffer.from("1.'; drop table users;--").toString('base64url')}`, '?other=1']) {
      expect(codeOf(await get(t.h.app, `/api/notifications${query}`, fan))).toEqual([400, 'VALIDATION_FAILED']);
    }
  });
});
