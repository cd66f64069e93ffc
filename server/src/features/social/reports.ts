import { chatMessages, type Db, eq, liveSessions, queryRows, reports, sql, users } from '@podlive/db';
import type { Report, ReportBody } from '@podlive/shared/social';
import { z } from 'zod';
import { ApiError } from '../../errors';
import { decodeCursor, encodeCursor, microsOf, timeOf } from '../../cursor';

/** GET /api/admin/reports: the moderation queue of one status, oldest first. */
export const adminReportsQuery = z.strictObject({
  status: z.enum(['open', 'reviewing', 'resolved', 'dismissed']).default('open'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type AdminReportsQuery = z.infer<typeof adminReportsQuery>;

export interface ReportsPage {
  items: Report[];
  nextCursor: string | null;
}

/** Whether the reported row exists, in the table its kind names. */
async function targetExists(db: Db, kind: ReportBody['targetKind'], id: string): Promise<boolean> {
  const table = { user: users, session: liveSessions, chat_message: chatMessages }[kind];
  const [row] = await db.select({ id: table.id }).from(table).where(eq(table.id, id)).limit(1);
  return row !== undefined;
}

interface ReportRow extends Record<string, unknown> {
  id: string;
  target_kind: Report['targetKind'];
  target_id: string;
  reason: string;
  status: Report['status'];
  created_at: Date | string;
  reporter_id: string | null;
  reporter_handle: string | null;
  micros: string;
}

const toReport = (row: ReportRow): Report => ({
  id: row.id,
  targetKind: row.target_kind,
  targetId: row.target_id,
  reason: row.reason,
  status: row.status,
  createdAt: new Date(row.created_at).toISOString(),
  reporter: row.reporter_id === null || row.reporter_handle === null ? null : { id: row.reporter_id, handle: row.reporter_handle },
});

const selectReports = sql`select r.id, r.target_kind, r.target_id, r.reason, r.status, r.created_at, r.reporter_id, u.handle as reporter_handle,
  ${microsOf(sql`r.created_at`)} as micros
  from ${reports} r left join ${users} u on u.id = r.reporter_id`;

/**
 * POST /api/reports. The partial unique index (one open report per reporter and target) makes a
 * retry, or a race of two, find the stored report: `created` tells which answer it is (201 / 200).
 * 404 REPORT_TARGET_NOT_FOUND when there is nothing of that kind with that id.
 */
export async function fileReport(db: Db, reporterId: string, body: ReportBody): Promise<{ report: Report; created: boolean }> {
  if (!(await targetExists(db, body.targetKind, body.targetId))) throw new ApiError('REPORT_TARGET_NOT_FOUND');
  const inserted = await queryRows<{ id: string }>(
    db,
    sql`insert into ${reports} (reporter_id, target_kind, target_id, reason) values (${reporterId}, ${body.targetKind}, ${body.targetId}, ${body.reason})
        on conflict (reporter_id, target_kind, target_id) where status = 'open' do nothing returning id`,
  );
  const created = inserted[0] !== undefined;
  const where = created
    ? sql`r.id = ${inserted[0]?.id}`
    : sql`r.reporter_id = ${reporterId} and r.target_kind = ${body.targetKind} and r.target_id = ${body.targetId} and r.status = 'open'`;
  const [row] = await queryRows<ReportRow>(db, sql`${selectReports} where ${where} limit 1`);
  // The open report was resolved between the two statements: file it again.
  if (row === undefined) return fileReport(db, reporterId, body);
  return { report: toReport(row), created };
}

/** Whether the user is staff (users.is_admin, set by an operator). */
export async function isAdmin(db: Db, userId: string): Promise<boolean> {
  const [row] = await db.select({ isAdmin: users.isAdmin }).from(users).where(eq(users.id, userId));
  return row?.isAdmin === true;
}

/** GET /api/admin/reports: 403 FORBIDDEN unless the caller is staff. */
export async function listReports(db: Db, callerId: string, query: AdminReportsQuery): Promise<ReportsPage> {
  if (!(await isAdmin(db, callerId))) throw new ApiError('FORBIDDEN', { message: 'Only staff can read reports' });
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const later = after === undefined ? sql`true` : sql`(r.created_at, r.id) > (${timeOf(after)}, ${after.id}::uuid)`;
  const rows = await queryRows<ReportRow>(
    db,
    sql`${selectReports} where r.status = ${query.status} and ${later} order by r.created_at, r.id limit ${query.limit + 1}`,
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return { items: page.map(toReport), nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor({ micros: last.micros, id: last.id }) : null };
}
