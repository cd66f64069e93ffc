import { createDb, migrate, queryRows, type Db, type DbHandle } from '@podlive/db';
import type { Config } from './config';

/** The database as the server uses it: the drizzle handle, a probe for /health, shutdown. */
export interface DatabaseHandle {
  readonly db: Db;
  /** Resolves when a trivial query (`select 1`) succeeds. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function databaseHandle(handle: DbHandle): DatabaseHandle {
  return {
    db: handle.db,
    async ping() {
      await queryRows(handle.db, 'select 1 as ok');
    },
    close: () => handle.close(),
  };
}

/**
 * PostgreSQL when DATABASE_URL is set, else PGlite in DATA_DIR, with pending migrations applied
 * (idempotent; on PostgreSQL under an advisory lock, so replicas starting together don't collide).
 */
export async function openDatabase(config: Config): Promise<DatabaseHandle> {
  const handle = await createDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrate(handle);
  } catch (err) {
    await handle.close().catch(() => undefined);
    throw err;
  }
  return databaseHandle(handle);
}
