import { sql, type SQL } from '@podlive/db';
import { ApiError } from './errors';

/**
 * Keyset cursors over (created_at, id), opaque to clients (base64url), for every paged list. The
 * time is carried as integer microseconds read from Postgres: a JS Date keeps milliseconds only,
 * and rows made in the same millisecond would be skipped or repeated across pages.
 */
export interface Position {
  micros: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `created_at` as integer microseconds since the epoch, as text (bigint would lose digits in JS). */
export const microsOf = (column: SQL | unknown) => sql<string>`(extract(epoch from ${column}) * 1000000)::bigint::text`;

export const encodeCursor = (p: Position): string => Buffer.from(`${p.micros}.${p.id}`).toString('base64url');

/** The position a cursor names, or 400 VALIDATION_FAILED (`cursor`) for anything else. */
export function decodeCursor(cursor: string): Position {
  const [micros, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
  if (micros === undefined || id === undefined || rest.length > 0 || !/^\d{1,17}$/.test(micros) || !UUID.test(id)) {
    throw new ApiError('VALIDATION_FAILED', { fields: { cursor: 'Not a cursor from this list; start again without one' } });
  }
  return { micros, id };
}

/** The timestamp of a position, exactly (integer arithmetic, no float seconds). */
export const timeOf = (p: Position) => sql`(timestamptz 'epoch' + ${p.micros}::bigint * interval '1 microsecond')`;
