/**
 * Clean, migrated databases for tests (this package's and the others'). A missing PostgreSQL is
 * an error, never a skipped test.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrate, openPglite, openPostgres, pgliteImage, type DbHandle, type DbKind } from './client';

export type { DbKind };

/** Where test databases are created: a server we may CREATE and DROP databases on. */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://root@127.0.0.1:5432/postgres';

export interface TestDb extends DbHandle {
  /** The database's name (`podlive_test_<pid>_<random>`), or `memory` for PGlite. */
  readonly name: string;
  /** URL of the test database (postgres only), e.g. to start a server process on it. */
  readonly databaseUrl: string | undefined;
}

export interface TestDbOptions {
  /** Apply the migrations before returning (default true); false gives an empty database. */
  migrated?: boolean;
}

/** The server test databases are created on: TEST_DATABASE_URL, else the local default. */
export function testServerUrl(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
}

/**
 * A new database of its own, migrated unless told otherwise. postgres: a database created for
 * this call on the test server (`podlive_test_<pid>_<random>`), dropped `WITH (FORCE)` by
 * `close()`. pglite: in memory (started from a migrated image made once per process), gone at
 * `close()`. `migrate(testDb)` works on both.
 */
export async function createTestDb(kind: DbKind, options: TestDbOptions = {}): Promise<TestDb> {
  const migrated = options.migrated ?? true;
  if (kind === 'pglite') return createPgliteTestDb(migrated);
  const testDb = await createPostgresTestDb();
  if (!migrated) return testDb;
  try {
    await migrate(testDb);
  } catch (err) {
    await testDb.close().catch(() => {});
    throw err;
  }
  return testDb;
}

/** This process's migrated PGlite image, made on first use (a failure is not remembered). */
let migratedImage: Promise<Blob> | undefined;

async function createPgliteTestDb(migrated: boolean): Promise<TestDb> {
  let loadDataDir: Blob | undefined;
  if (migrated) {
    migratedImage ??= pgliteImage().catch((err: unknown) => {
      migratedImage = undefined;
      throw err;
    });
    loadDataDir = await migratedImage;
  }
  const handle = await openPglite(loadDataDir ? { loadDataDir } : {});
  // The handle itself (not a copy): `migrate()` knows handles by identity.
  return Object.assign(handle, { name: 'memory', databaseUrl: undefined });
}

async function createPostgresTestDb(): Promise<TestDb> {
  const serverUrl = testServerUrl();
  const name = `podlive_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await withAdmin(serverUrl, (admin) => admin`create database ${admin(name)}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dropDatabase = async () => {
    await withAdmin(serverUrl, (admin) => admin`drop database if exists ${admin(name)} with (force)`);
  };
  return Object.assign(openPostgres(url.toString(), dropDatabase), { name, databaseUrl: url.toString() });
}

/** Runs `work` on a short-lived single connection to the test server. */
async function withAdmin<T>(serverUrl: string, work: (admin: postgres.Sql) => Promise<T>): Promise<T> {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  try {
    return await work(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

/** Whether a database of this name exists on the test server (to check that `close()` dropped it). */
export async function testDatabaseExists(name: string): Promise<boolean> {
  const rows = await withAdmin(testServerUrl(), (admin) => admin`select 1 from pg_database where datname = ${name}`);
  return rows.length > 0;
}
