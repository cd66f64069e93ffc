import { and, blocks, type Db, desc, eq, users } from '@podlive/db';
import type { BlockedUsers } from '@podlive/shared/social';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError } from '../../errors';
import type { LiveEvents } from '../../ws/events';
import { avatarUrl } from '../users/present';
import { lockPair, removeFollow } from '../users/follows';

export interface BlockState {
  blocked: boolean;
}

/** Most blocks listed at once (the list has no pages: nobody reads more). */
const MAX_LISTED = 1000;

async function checkTarget(db: Db, blockerId: string, blockedId: string): Promise<void> {
  if (blockerId === blockedId) throw new ApiError('CANNOT_BLOCK_SELF');
  const [target] = await db.select({ id: users.id }).from(users).where(eq(users.id, blockedId));
  if (target === undefined) throw new ApiError('USER_NOT_FOUND');
}

export interface BlockDeps {
  db: Db;
  events: LiveEvents;
  log: FastifyBaseLogger;
}

/**
 * Both users' connections reload what they filter (chat hides a blocked user's messages). The
 * block is stored by then: a failed announcement is logged, not the request's failure.
 */
async function announce({ events, log }: BlockDeps, blockerId: string, blockedId: string): Promise<void> {
  await Promise.all([events.blocksChanged(blockerId), events.blocksChanged(blockedId)]).catch((err: unknown) =>
    log.error({ err, blockerId, blockedId }, 'announcing blocks_changed failed'),
  );
}

/**
 * POST /api/users/:id/block, idempotent. In one transaction under the pair's lock (the one follow
 * takes): the block, and the follows both ways removed with their counters.
 */
export async function block(deps: BlockDeps, blockerId: string, blockedId: string): Promise<BlockState> {
  const { db } = deps;
  await checkTarget(db, blockerId, blockedId);
  const added = await db.transaction(async (tx) => {
    await lockPair(tx, blockerId, blockedId);
    const inserted = await tx.insert(blocks).values({ blockerId, blockedId }).onConflictDoNothing().returning({ id: blocks.blockedId });
    await removeFollow(tx, blockerId, blockedId);
    await removeFollow(tx, blockedId, blockerId);
    return inserted.length === 1;
  });
  if (added) await announce(deps, blockerId, blockedId);
  return { blocked: true };
}

/** DELETE /api/users/:id/block, idempotent. Follows removed by the block stay removed. */
export async function unblock(deps: BlockDeps, blockerId: string, blockedId: string): Promise<BlockState> {
  const { db } = deps;
  await checkTarget(db, blockerId, blockedId);
  const removed = await db
    .delete(blocks)
    .where(and(eq(blocks.blockerId, blockerId), eq(blocks.blockedId, blockedId)))
    .returning({ id: blocks.blockedId });
  if (removed.length === 1) await announce(deps, blockerId, blockedId);
  return { blocked: false };
}

/** GET /api/users/me/blocks: newest first. */
export async function listBlocks(db: Db, blockerId: string): Promise<BlockedUsers> {
  const rows = await db
    .select({ id: users.id, handle: users.handle, displayName: users.displayName, avatarKey: users.avatarKey, blockedAt: blocks.createdAt })
    .from(blocks)
    .innerJoin(users, eq(users.id, blocks.blockedId))
    .where(eq(blocks.blockerId, blockerId))
    .orderBy(desc(blocks.createdAt), users.id)
    .limit(MAX_LISTED);
  return {
    items: rows.map((r) => ({ id: r.id, handle: r.handle, displayName: r.displayName, avatarUrl: avatarUrl(r.avatarKey), blockedAt: r.blockedAt.toISOString() })),
  };
}
