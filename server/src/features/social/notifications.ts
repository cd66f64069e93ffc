import { and, type Db, eq, isNull, notifications, queryRows, sql } from '@podlive/db';
import type { AppNotification, NotificationKind, NotificationPayloads, NotificationsPage } from '@podlive/shared/social';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveEvents } from '../../ws/events';
import { decodeCursor, encodeCursor, microsOf, timeOf } from '../../cursor';

/** A stored notification as read back (raw SQL gives Date or string for times, by driver). */
export interface NotificationRow extends Record<string, unknown> {
  id: string;
  userId: string;
  kind: string;
  payload: Record<string, unknown>;
  readAt: Date | string | null;
  createdAt: Date | string;
}

const iso = (value: Date | string) => new Date(value).toISOString();

/** The wire shape; the kind decides the payload's type (both are written only by this server). */
export const toAppNotification = (row: NotificationRow): AppNotification =>
  ({ id: row.id, kind: row.kind, payload: row.payload, createdAt: iso(row.createdAt), readAt: row.readAt === null ? null : iso(row.readAt) }) as AppNotification;

/** `{a,b}`: one array parameter (drizzle would spread a JS array into a list of parameters). */
export const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/** Unread counts of these users (0 for those with none). */
export async function unreadCounts(db: Db, userIds: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map(userIds.map((id) => [id, 0]));
  if (userIds.length === 0) return counts;
  const rows = await queryRows<{ user_id: string; n: number }>(
    db,
    sql`select user_id, count(*)::int as n from notifications where user_id = any(${uuidArray(userIds)}::uuid[]) and read_at is null group by user_id`,
  );
  for (const row of rows) counts.set(row.user_id, row.n);
  return counts;
}

/**
 * Stores one notification of `kind` for each user, in one insert (any number of users: they go
 * as a single array parameter), and returns the rows.
 */
export async function storeForUsers<K extends NotificationKind>(db: Db, userIds: readonly string[], kind: K, payload: NotificationPayloads[K]): Promise<NotificationRow[]> {
  if (userIds.length === 0) return [];
  return queryRows<NotificationRow>(
    db,
    sql`insert into notifications (user_id, kind, payload)
        select u, ${kind}, ${JSON.stringify(payload)}::jsonb from unnest(${uuidArray(userIds)}::uuid[]) as u
        returning id, user_id as "userId", kind, payload, read_at as "readAt", created_at as "createdAt"`,
  );
}

/**
 * The `notification` /ws event to each stored row's user, with their unread count read after the
 * insert. Failures are logged: the notification is stored, the menu shows it on its next load.
 */
export async function publishStored(db: Db, events: LiveEvents, log: FastifyBaseLogger, rows: readonly NotificationRow[]): Promise<void> {
  if (rows.length === 0) return;
  try {
    const counts = await unreadCounts(db, [...new Set(rows.map((r) => r.userId))]);
    await Promise.all(rows.map((row) => events.toUser(row.userId, { type: 'notification', notification: toAppNotification(row), unread: counts.get(row.userId) ?? 0 })));
  } catch (err) {
    log.error({ err, count: rows.length }, 'publishing notifications failed');
  }
}

const columns = sql`id, user_id as "userId", kind, payload, read_at as "readAt", created_at as "createdAt", ${microsOf(sql`created_at`)} as micros`;

/** GET /api/notifications: the user's, newest first, after `cursor`; and their unread count. */
export async function listNotifications(db: Db, userId: string, params: { cursor?: string | undefined; limit: number }): Promise<NotificationsPage> {
  const after = params.cursor === undefined ? undefined : decodeCursor(params.cursor);
  const older = after === undefined ? sql`true` : sql`(created_at, id) < (${timeOf(after)}, ${after.id}::uuid)`;
  const [rows, counts] = await Promise.all([
    queryRows<NotificationRow & { micros: string }>(
      db,
      sql`select ${columns} from notifications where user_id = ${userId} and ${older} order by created_at desc, id desc limit ${params.limit + 1}`,
    ),
    unreadCounts(db, [userId]),
  ]);
  const page = rows.slice(0, params.limit);
  const last = page.at(-1);
  return {
    items: page.map(toAppNotification),
    unread: counts.get(userId) ?? 0,
    nextCursor: rows.length > params.limit && last !== undefined ? encodeCursor({ micros: last.micros, id: last.id }) : null,
  };
}

/** POST /api/notifications/read: these (only the caller's; others' ids change nothing) or all. */
export async function markRead(db: Db, userId: string, which: { ids: string[] } | { all: true }): Promise<{ unread: number }> {
  const unread = and(eq(notifications.userId, userId), isNull(notifications.readAt));
  const where = 'ids' in which ? and(unread, sql`${notifications.id} = any(${uuidArray(which.ids)}::uuid[])`) : unread;
  await db.update(notifications).set({ readAt: new Date() }).where(where);
  return { unread: (await unreadCounts(db, [userId])).get(userId) ?? 0 };
}
