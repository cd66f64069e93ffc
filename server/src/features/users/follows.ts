import { and, databaseErrorOf, type Db, eq, follows, PgErrorCode, sql, users } from '@podlive/db';
import { ApiError } from '../../errors';

export interface FollowState {
  following: boolean;
  followerCount: number;
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Moves both counters by `delta`, locking the two rows in id order so crossed follows can't deadlock. */
async function bumpCounts(tx: Tx, followerId: string, followeeId: string, delta: 1 | -1): Promise<void> {
  const updates = [
    { id: followerId, set: { followingCount: sql`${users.followingCount} + ${delta}` } },
    { id: followeeId, set: { followerCount: sql`${users.followerCount} + ${delta}` } },
  ].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const update of updates) await tx.update(users).set(update.set).where(eq(users.id, update.id));
}

async function stateOf(db: Db, followeeId: string, following: boolean): Promise<FollowState> {
  const [row] = await db.select({ followerCount: users.followerCount }).from(users).where(eq(users.id, followeeId));
  return { following, followerCount: row?.followerCount ?? 0 };
}

/**
 * Idempotent follow: the row is inserted `on conflict do nothing` and the counters move only when
 * it was, in the same transaction, so the counts equal the rows whatever runs concurrently.
 */
export async function follow(db: Db, followerId: string, followeeId: string): Promise<FollowState> {
  if (followerId === followeeId) throw new ApiError('CANNOT_FOLLOW_SELF');
  const [target] = await db.select({ id: users.id }).from(users).where(eq(users.id, followeeId));
  if (target === undefined) throw new ApiError('USER_NOT_FOUND');
  try {
    await db.transaction(async (tx) => {
      const inserted = await tx.insert(follows).values({ followerId, followeeId }).onConflictDoNothing().returning({ id: follows.followeeId });
      if (inserted.length === 1) await bumpCounts(tx, followerId, followeeId, 1);
    });
  } catch (err) {
    // The user was deleted between the check and the insert.
    if (databaseErrorOf(err)?.code === PgErrorCode.foreignKeyViolation) throw new ApiError('USER_NOT_FOUND', { cause: err });
    throw err;
  }
  return stateOf(db, followeeId, true);
}

/** Idempotent unfollow: counters move only when a row was deleted. */
export async function unfollow(db: Db, followerId: string, followeeId: string): Promise<FollowState> {
  if (followerId === followeeId) throw new ApiError('CANNOT_FOLLOW_SELF');
  const [target] = await db.select({ id: users.id }).from(users).where(eq(users.id, followeeId));
  if (target === undefined) throw new ApiError('USER_NOT_FOUND');
  await db.transaction(async (tx) => {
    const deleted = await tx
      .delete(follows)
      .where(and(eq(follows.followerId, followerId), eq(follows.followeeId, followeeId)))
      .returning({ id: follows.followeeId });
    if (deleted.length === 1) await bumpCounts(tx, followerId, followeeId, -1);
  });
  return stateOf(db, followeeId, false);
}
