import { and, blocks, databaseErrorOf, type Db, eq, follows, or, PgErrorCode, sql, users } from '@podlive/db';
import { ApiError } from '../../errors';

export interface FollowState {
  following: boolean;
  followerCount: number;
}

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * Locks both users' rows, in id order: follows and blocks between two users take these locks
 * first, so a follow and a block racing each other run one after the other (no follow survives a block).
 */
export async function lockPair(tx: Tx, a: string, b: string): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(or(eq(users.id, a), eq(users.id, b))).orderBy(users.id).for('update');
}

/** Whether either user blocked the other. */
export async function blockedEitherWay(tx: Tx | Db, a: string, b: string): Promise<boolean> {
  const [row] = await tx
    .select({ id: blocks.blockerId })
    .from(blocks)
    .where(or(and(eq(blocks.blockerId, a), eq(blocks.blockedId, b)), and(eq(blocks.blockerId, b), eq(blocks.blockedId, a))))
    .limit(1);
  return row !== undefined;
}

/** Deletes the follow (follower → followee) if there is one, moving the counters with it. */
export async function removeFollow(tx: Tx, followerId: string, followeeId: string): Promise<void> {
  const deleted = await tx
    .delete(follows)
    .where(and(eq(follows.followerId, followerId), eq(follows.followeeId, followeeId)))
    .returning({ id: follows.followeeId });
  if (deleted.length === 1) await bumpCounts(tx, followerId, followeeId, -1);
}

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
 * 403 FOLLOW_BLOCKED when either user blocked the other (checked under the pair's lock).
 */
export async function follow(db: Db, followerId: string, followeeId: string): Promise<FollowState> {
  if (followerId === followeeId) throw new ApiError('CANNOT_FOLLOW_SELF');
  const [target] = await db.select({ id: users.id }).from(users).where(eq(users.id, followeeId));
  if (target === undefined) throw new ApiError('USER_NOT_FOUND');
  try {
    await db.transaction(async (tx) => {
      await lockPair(tx, followerId, followeeId);
      if (await blockedEitherWay(tx, followerId, followeeId)) throw new ApiError('FOLLOW_BLOCKED');
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
  // The pair's lock first, as follow() and block do: a delete holding the follows row while it
  // waits for the users' rows would deadlock with a follow holding those rows and waiting on it.
  await db.transaction(async (tx) => {
    await lockPair(tx, followerId, followeeId);
    await removeFollow(tx, followerId, followeeId);
  });
  return stateOf(db, followeeId, false);
}
