import { and, type Db, desc, eq, equalsIgnoringCase, queryRows, recordings, sql, users } from '@podlive/db';
import { normalizeHandle } from '@podlive/shared/handles';
import type { Recording, RecordingsPage } from '@podlive/shared/recording';
import { decodeCursor, encodeCursor, microsOf, timeOf } from '../../cursor';
import { ApiError } from '../../errors';
import type { RecordingsContext } from './context';
import { findRecordingRow, recordingColumns, type RecordingRow, toRecording, visibleTo } from './present';

/**
 * GET /api/users/:handle/recordings: newest first, `limit` per page. The owner sees all of theirs
 * (processing, failed, private); anyone else only the ready, public ones. 404 USER_NOT_FOUND.
 */
export async function userRecordings(
  ctx: RecordingsContext,
  handleInput: string,
  callerId: string | null,
  page: { cursor?: string | undefined; limit: number },
): Promise<RecordingsPage> {
  const handle = normalizeHandle(handleInput);
  if (handle.length === 0 || handle.length > 64) throw new ApiError('USER_NOT_FOUND');
  const [user] = await ctx.db.select({ id: users.id }).from(users).where(equalsIgnoringCase(users.handle, handle)).limit(1);
  if (user === undefined) throw new ApiError('USER_NOT_FOUND');
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const rows = await ctx.db
    .select({ ...recordingColumns, micros: microsOf(recordings.createdAt) })
    .from(recordings)
    .innerJoin(users, eq(users.id, recordings.ownerId))
    .where(
      and(
        eq(recordings.ownerId, user.id),
        user.id === callerId ? undefined : and(eq(recordings.status, 'ready'), eq(recordings.visibility, 'public')),
        after === undefined ? undefined : sql`(${recordings.createdAt}, ${recordings.id}) < (${timeOf(after)}, ${after.id}::uuid)`,
      ),
    )
    .orderBy(desc(recordings.createdAt), desc(recordings.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: await Promise.all(items.map((row) => toRecording(ctx, row))),
    nextCursor: rows.length > page.limit && last !== undefined ? encodeCursor({ micros: last.micros, id: last.recording.id }) : null,
  };
}

/** The recording when `callerId` may see it (see visibleTo); 404 RECORDING_NOT_FOUND otherwise, private ones included. */
export async function visibleRow(ctx: RecordingsContext, id: string, callerId: string | null): Promise<RecordingRow> {
  const row = await findRecordingRow(ctx.db, id);
  if (row === undefined || !visibleTo(row, callerId)) throw new ApiError('RECORDING_NOT_FOUND');
  return row;
}

export async function getRecording(ctx: RecordingsContext, id: string, callerId: string | null): Promise<Recording> {
  return toRecording(ctx, await visibleRow(ctx, id, callerId));
}

/**
 * Whether the media route may serve a session's recording objects to anyone: the live HLS while
 * the live is on (no recording row yet), then as long as its recording is public. A private
 * recording's objects are reached only through signed links.
 */
export function recordingMediaAccess(db: Db): (sessionId: string) => Promise<boolean> {
  return async (sessionId) => {
    const [row] = await queryRows<{ status: string; visibility: string | null }>(
      db,
      sql`select s.status, r.visibility from live_sessions s left join recordings r on r.session_id = s.id where s.id = ${sessionId}`,
    );
    if (row === undefined) return false;
    return row.visibility === 'public' || (row.visibility === null && row.status === 'live');
  };
}
