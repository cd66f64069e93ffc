import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { createDb, migrate, migrationsFolder, queryRows, users, type Db } from '../src/index';
import { createTestDb, type TestDb } from '../src/testing';
import { insertUser, kinds } from './helpers';

const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta/_journal.json'), 'utf8')) as { entries: unknown[] };

const expectedTables = [
  'blocks', 'chat_bans', 'chat_messages', 'follows', 'live_sessions', 'notifications', 'one_time_codes',
  'pinned_messages', 'push_subscriptions', 'recordings', 'refresh_token_families', 'reports', 'retired_refresh_tokens', 'session_moderators',
  'stage_invites', 'users',
];

async function publicTables(db: Db): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
  );
  return rows.map((row) => row.name);
}

async function appliedMigrations(db: Db): Promise<number> {
  const rows = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
  return rows[0]?.n ?? -1;
}

describe.each(kinds)('migrations on %s', (kind) => {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((handle) => handle.close()));
  });
  async function emptyDb(): Promise<TestDb> {
    const testDb = await createTestDb(kind, { migrated: false });
    opened.push(testDb);
    return testDb;
  }

  it('apply every migration on a fresh database', async () => {
    const testDb = await emptyDb();
    const { db } = testDb;
    expect(await publicTables(db)).toEqual([]);
    await migrate(testDb);
    expect(await publicTables(db)).toEqual(expectedTables);
    expect(journal.entries.length).toBeGreaterThan(0);
    expect(await appliedMigrations(db)).toBe(journal.entries.length);
  });

  it('install pg_trgm for user search', async () => {
    const testDb = await emptyDb();
    await migrate(testDb);
    const rows = await queryRows<{ s: number }>(testDb.db, sql`select similarity('rahl', 'rahul') as s`);
    expect(Number(rows[0]?.s)).toBeGreaterThan(0.3);
    const indexes = await queryRows<{ name: string }>(testDb.db, sql`select indexname as name from pg_indexes where indexname like 'users_%_trgm_idx' order by 1`);
    expect(indexes.map((row) => row.name)).toEqual(['users_display_name_trgm_idx', 'users_handle_trgm_idx']);
  });

  it('re-applying them is a no-op that keeps the data', async () => {
    const testDb = await emptyDb();
    await migrate(testDb);
    const user = await insertUser(testDb.db);
    await migrate(testDb);
    expect(await appliedMigrations(testDb.db)).toBe(journal.entries.length);
    expect(await testDb.db.select().from(users)).toEqual([user]);
  });
});

describe('migrations on postgres from several processes', () => {
  it('run once when two handles migrate the same database at the same time', async () => {
    const testDb = await createTestDb('postgres', { migrated: false });
    const replicas = await Promise.all([0, 1, 2].map(() => createDb({ databaseUrl: testDb.databaseUrl, dataDir: '/nonexistent' })));
    try {
      await Promise.all(replicas.map((replica) => migrate(replica)));
      expect(await appliedMigrations(testDb.db)).toBe(journal.entries.length);
      expect(await publicTables(testDb.db)).toEqual(expectedTables);
    } finally {
      await Promise.all(replicas.map((replica) => replica.close()));
      await testDb.close();
    }
  });
});
