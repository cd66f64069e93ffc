import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { databaseErrorOf, liveSessions, users, type Db, type LiveSession, type User } from '../src/index';

export const kinds = ['postgres', 'pglite'] as const;

/** Inserts a user; handle and email are unique unless given. */
export async function insertUser(db: Db, fields: Partial<typeof users.$inferInsert> = {}): Promise<User> {
  const suffix = randomBytes(4).toString('hex');
  const [user] = await db
    .insert(users)
    .values({
      handle: `user_${suffix}`,
      email: `user_${suffix}@example.test`,
      passwordHash: 'argon2id$test',
      displayName: 'Test User',
      ...fields,
    })
    .returning();
  if (!user) throw new Error('insert returned no row');
  return user;
}

export async function insertSession(db: Db, hostId: string, fields: Partial<typeof liveSessions.$inferInsert> = {}): Promise<LiveSession> {
  const [session] = await db.insert(liveSessions).values({ hostId, title: 'A live', ...fields }).returning();
  if (!session) throw new Error('insert returned no row');
  return session;
}

/** The error `statement` fails with; fails the test when it succeeds. */
export async function rejectionOf(statement: PromiseLike<unknown>): Promise<unknown> {
  try {
    await statement;
  } catch (err) {
    return err;
  }
  throw new Error('expected the statement to be rejected by the database, but it succeeded');
}

/** Asserts `statement` is refused by PostgreSQL with this SQLSTATE by this constraint. */
export async function expectRefused(statement: PromiseLike<unknown>, code: string, constraint: string): Promise<void> {
  const err = await rejectionOf(statement);
  expect(databaseErrorOf(err), String(err)).toMatchObject({ code, constraint });
}
