import { handleSkeleton } from '@podlive/shared/handles';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsFolder, queryRows } from '../src/index';
import { createTestDb, type TestDb } from '../src/testing';
import { expectRefused, insertUser } from './helpers';

/** The backfill statement of migration 0006, run again on rows inserted without a skeleton. */
const backfill = readFileSync(join(migrationsFolder, '0006_handle_skeleton.sql'), 'utf8')
  .split('--> statement-breakpoint')
  .map((statement) => statement.replace(/^--.*$/gm, '').trim())
  .find((statement) => statement.startsWith('UPDATE'));

describe('users.handle_skeleton', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createTestDb('postgres');
  });
  afterAll(() => testDb.close());

  it('the migration backfills what handleSkeleton computes, for every handle character', async () => {
    if (backfill === undefined) throw new Error('no UPDATE in migration 0006');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_';
    const suffix = Date.now().toString(36);
    const handles = [`${alphabet.slice(0, 30)}`, `${alphabet.slice(30, 60)}`, `x${alphabet.slice(60)}_${suffix}`, `PodIive_${suffix}`];
    const rows = [];
    for (const handle of handles) rows.push(await insertUser(testDb.db, { handle: handle.slice(0, 30) }));
    await testDb.db.execute(sql.raw(backfill));
    const stored = await queryRows<{ handle: string; skeleton: string | null }>(
      testDb.db,
      sql`select handle, handle_skeleton as skeleton from users where id in ${rows.map((row) => row.id)}`,
    );
    expect(stored).toHaveLength(handles.length);
    for (const row of stored) expect(row.skeleton).toBe(handleSkeleton(row.handle));
  });

  it('the backfill leaves the newer of two look-alike handles without a key, and the index refuses a second one', async () => {
    if (backfill === undefined) throw new Error('no UPDATE in migration 0006');
    const suffix = Date.now().toString(36);
    const older = await insertUser(testDb.db, { handle: `lily_${suffix}` });
    const newer = await insertUser(testDb.db, { handle: `LiIy_${suffix}` });
    await testDb.db.execute(sql.raw(backfill));
    const stored = await queryRows<{ id: string; skeleton: string | null }>(testDb.db, sql`select id, handle_skeleton as skeleton from users where id in ${[older.id, newer.id]}`);
    expect(Object.fromEntries(stored.map((row) => [row.id, row.skeleton]))).toEqual({ [older.id]: handleSkeleton(older.handle), [newer.id]: null });
    await expectRefused(insertUser(testDb.db, { handle: `l1ly_${suffix}`, handleSkeleton: handleSkeleton(`l1ly_${suffix}`) }), '23505', 'users_handle_skeleton_key');
  });
});
