import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './schema';

export type Schema = typeof schema;

/** The database, whichever driver is behind it. Transactions (`db.transaction(tx => ...)`) are one too. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export type DbKind = 'postgres' | 'pglite';

export interface DbHandle {
  readonly db: Db;
  /** `postgres` with a DATABASE_URL, `pglite` (embedded, in-process) without. */
  readonly kind: DbKind;
  /** Closes the connections (or the embedded database). Calling it again does nothing. */
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** A `postgres://` URL. Without one, PodLive runs on embedded PGlite. */
  databaseUrl?: string | undefined;
  /** The data directory; PGlite keeps its files in `<dataDir>/pglite`. Unused with a URL. */
  dataDir: string;
}

/** The generated SQL migrations (drizzle-kit), applied in order by `migrate()`. */
export const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

/** What `migrate()` needs and the public handle hides: the driver. */
const migrators = new WeakMap<DbHandle, () => Promise<void>>();

/** Opens the database named by the options. Run `migrate(handle)` before first use. */
export async function createDb(options: CreateDbOptions): Promise<DbHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl);
  mkdirSync(options.dataDir, { recursive: true });
  return openPglite({ dataDir: join(options.dataDir, 'pglite') });
}

/**
 * Applies the migrations not yet applied (recorded in `drizzle.__drizzle_migrations`); a no-op
 * when the database is up to date. Safe to run from several processes at once on PostgreSQL.
 */
export async function migrate(handle: DbHandle): Promise<void> {
  const run = migrators.get(handle);
  if (!run) throw new TypeError('migrate(): not a handle made by createDb()');
  await run();
}

/** postgres.js pool on `url`; `afterClose` runs once the pool has ended (tests drop their database there). */
export function openPostgres(url: string, afterClose?: () => Promise<void>): DbHandle {
  // Notices ("schema drizzle already exists, skipping") are not worth a console line.
  const client = postgres(url, { onnotice: () => {} });
  const db: Db = drizzlePostgres({ client, schema });
  let closed: Promise<void> | undefined;
  const handle: DbHandle = {
    db,
    kind: 'postgres',
    close: () => (closed ??= client.end({ timeout: 5 }).then(afterClose)),
  };
  migrators.set(handle, async () => {
    if (closed) throw new Error('migrate(): the database handle is closed');
    await migratePostgresLocked(url);
  });
  return handle;
}

/** Any 64-bit number, the same in every process: the advisory lock that serialises migrations. */
const MIGRATION_LOCK = 0x706f646c697665n; // "podlive"

/**
 * Runs drizzle's migrator on its own single connection holding an advisory lock, so server
 * replicas starting together apply each migration once instead of racing on the same DDL.
 */
async function migratePostgresLocked(url: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK.toString()}::bigint)`;
    await migratePostgres(drizzlePostgres({ client }), { migrationsFolder });
  } finally {
    // Ending the session releases the lock too, also when a migration failed.
    await client.end({ timeout: 5 });
  }
}

export interface PgliteOptions {
  /** Directory of the database files; in memory without one. */
  dataDir?: string;
  /** Start from this image (`pgliteImage()`) instead of an empty cluster. */
  loadDataDir?: Blob;
}

/** Extensions the migrations create (pg_trgm: user search); PGlite must load them at start. */
const pgliteExtensions = { pg_trgm };

/** Embedded PGlite, in `dataDir` (created if missing) or in memory. */
export async function openPglite(options: PgliteOptions = {}): Promise<DbHandle> {
  const client = await PGlite.create({ ...options, extensions: pgliteExtensions });
  const pglite = drizzlePglite({ client, schema });
  let closed: Promise<void> | undefined;
  const handle: DbHandle = {
    db: pglite,
    kind: 'pglite',
    close: () => (closed ??= client.close()),
  };
  migrators.set(handle, async () => {
    if (closed) throw new Error('migrate(): the database handle is closed');
    await migratePglite(pglite, { migrationsFolder });
  });
  return handle;
}

/**
 * An in-memory PGlite with every migration applied, dumped as an image: `openPglite({
 * loadDataDir })` starts from it faster than creating and migrating a cluster (tests).
 */
export async function pgliteImage(): Promise<Blob> {
  const client = await PGlite.create({ extensions: pgliteExtensions });
  try {
    await migratePglite(drizzlePglite({ client }), { migrationsFolder });
    return await client.dumpDataDir('none');
  } finally {
    await client.close();
  }
}
