import type { SQLWrapper } from 'drizzle-orm';
import type { Db } from './client';

/**
 * Runs raw SQL (`sql\`...\``) and returns its rows as a plain array, whichever driver is behind
 * `db`: `db.execute()` itself gives postgres.js' row list or PGlite's `{ rows }`, typed `unknown`.
 * Prefer the query builder; this is for what it cannot say.
 */
export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQLWrapper | string): Promise<T[]> {
  const result: unknown = await db.execute(query);
  if (Array.isArray(result)) return Array.from(result as T[]);
  if (typeof result === 'object' && result !== null && Array.isArray((result as { rows?: unknown }).rows)) {
    return (result as { rows: T[] }).rows;
  }
  throw new TypeError('queryRows(): the driver returned no rows array');
}
