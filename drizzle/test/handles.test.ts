import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, databaseErrorOf, isUniqueViolation, migrate, users } from '../src/index';
import { createTestDb, testDatabaseExists } from '../src/testing';
import { insertUser, kinds, rejectionOf } from './helpers';

describe.each(kinds)('createTestDb(%s)', (kind) => {
  it('gives each call a database of its own', async () => {
    const [a, b] = await Promise.all([createTestDb(kind), createTestDb(kind)]);
    try {
      expect(a.name === 'memory' || a.name !== b.name).toBe(true);
      const user = await insertUser(a.db, { handle: 'OnlyInA' });
      expect(await a.db.select().from(users)).toEqual([user]);
      expect(await b.db.select().from(users)).toEqual([]);
      // The same handle is free in b: nothing of a leaks into it.
      await insertUser(b.db, { handle: 'OnlyInA' });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('close() can be called twice, and migrate() refuses a closed handle', async () => {
    const testDb = await createTestDb(kind);
    await Promise.all([testDb.close(), testDb.close()]);
    await testDb.close();
    await expect(migrate(testDb)).rejects.toThrow(/closed/);
  });
});

describe('createTestDb(postgres)', () => {
  it('close() drops the database, even with connections open', async () => {
    const testDb = await createTestDb('postgres');
    const other = await createDb({ databaseUrl: testDb.databaseUrl, dataDir: tmpdir() });
    try {
      expect(testDb.name).toMatch(new RegExp(`^podlive_test_${process.pid}_[0-9a-f]{12}$`));
      await insertUser(other.db); // a second pool holding a connection: WITH (FORCE) ends it
      expect(await testDatabaseExists(testDb.name)).toBe(true);
      await testDb.close();
      expect(await testDatabaseExists(testDb.name)).toBe(false);
    } finally {
      await other.close();
    }
  });
});

describe('createDb', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'podlive-db-test-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('without a URL keeps an embedded database in <dataDir>/pglite across restarts', async () => {
    const first = await createDb({ dataDir });
    expect(first.kind).toBe('pglite');
    await migrate(first);
    const user = await insertUser(first.db);
    await first.close();

    const second = await createDb({ dataDir });
    try {
      await migrate(second);
      expect(await second.db.select().from(users)).toEqual([user]);
    } finally {
      await second.close();
    }
  });

  it('with a URL talks to PostgreSQL', async () => {
    const testDb = await createTestDb('postgres');
    const handle = await createDb({ databaseUrl: testDb.databaseUrl, dataDir: join(dataDir, 'unused') });
    try {
      expect(handle.kind).toBe('postgres');
      await insertUser(handle.db, { handle: 'viaUrl' });
      expect((await testDb.db.select().from(users)).map((u) => u.handle)).toEqual(['viaUrl']);
    } finally {
      await handle.close();
      await testDb.close();
    }
  });

  it('migrate() refuses an object it did not make', async () => {
    const testDb = await createTestDb('pglite');
    try {
      await expect(migrate({ ...testDb })).rejects.toThrow(TypeError);
    } finally {
      await testDb.close();
    }
  });
});

describe.each(kinds)('databaseErrorOf on %s', (kind) => {
  it('finds the code and constraint behind the driver error, and nothing in other errors', async () => {
    const testDb = await createTestDb(kind);
    try {
      await insertUser(testDb.db, { handle: 'taken' });
      const err = await rejectionOf(insertUser(testDb.db, { handle: 'TAKEN' }));
      expect(databaseErrorOf(err)).toMatchObject({ code: '23505', constraint: 'users_handle_lower_key' });
      expect(isUniqueViolation(err, 'users_handle_lower_key')).toBe(true);
      expect(isUniqueViolation(err, 'users_email_lower_key')).toBe(false);
      expect(databaseErrorOf(Object.assign(new Error('broken pipe'), { code: 'EPIPE' }))).toBeUndefined();
    } finally {
      await testDb.close();
    }
  });
});
