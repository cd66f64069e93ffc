import { and, blocks, eq, equalsIgnoringCase, isUniqueViolation, queryRows, sql, users } from '@podlive/db';
import type { StageInvite } from '@podlive/shared/stage';
import { ApiError } from '../../errors';
import { findLiveRow, type LiveRow } from '../live/present';
import { Coalescer } from './coalesce';
import type { StageContext } from './context';
import { iso, toPerson } from './present';
import { watchingNode } from './watching';

const ONE_PENDING = 'stage_invites_one_pending_key';

/** Concurrent invites of one live read its row once (the insert re-checks that it is live). */
const liveRows = new WeakMap<StageContext, Coalescer<LiveRow | undefined>>();
function sharedLiveRow(ctx: StageContext, sessionId: string): Promise<LiveRow | undefined> {
  let coalescer = liveRows.get(ctx);
  if (coalescer === undefined) liveRows.set(ctx, (coalescer = new Coalescer()));
  return coalescer.run(sessionId, () => findLiveRow(ctx.db, sessionId));
}

/** The session when `callerId` hosts it and it is live: LIVE_NOT_FOUND, NOT_HOST, LIVE_NOT_STARTED, LIVE_ENDED. */
export async function hostedLiveRow(ctx: StageContext, sessionId: string, callerId: string): Promise<LiveRow> {
  const row = await findLiveRow(ctx.db, sessionId);
  return checkHostedLive(row, callerId);
}

function checkHostedLive(row: LiveRow | undefined, callerId: string): LiveRow {
  if (row === undefined) throw new ApiError('LIVE_NOT_FOUND');
  if (row.session.hostId !== callerId) throw new ApiError('NOT_HOST');
  if (row.session.status === 'scheduled') throw new ApiError('LIVE_NOT_STARTED');
  if (row.session.status === 'ended') throw new ApiError('LIVE_ENDED');
  return row;
}

/** The user by handle, whether they blocked `hostId`, and whether the host blocked them. */
async function findInvitee(ctx: StageContext, handle: string, hostId: string) {
  const blockedHost = sql<boolean>`exists (select 1 from ${blocks} where ${and(eq(blocks.blockerId, users.id), eq(blocks.blockedId, hostId))})`;
  const blockedByHost = sql<boolean>`exists (select 1 from ${blocks} where ${and(eq(blocks.blockerId, hostId), eq(blocks.blockedId, users.id))})`;
  const [row] = await ctx.db
    .select({ id: users.id, handle: users.handle, displayName: users.displayName, avatarKey: users.avatarKey, emailVerified: users.emailVerified, blockedHost, blockedByHost })
    .from(users)
    .where(equalsIgnoringCase(users.handle, handle))
    .limit(1);
  return row;
}

interface InsertedRow extends Record<string, unknown> {
  id: string;
  invited_at: Date | string;
  deadline: Date | string;
}

/** Inserts the pending invite while the session is live; null when it no longer is. */
async function insertInvite(ctx: StageContext, sessionId: string, hostId: string, inviteeId: string, nodeId: string | null): Promise<InsertedRow | null> {
  const deadline = new Date(Date.now() + ctx.inviteTtlMs);
  const [row] = await queryRows<InsertedRow>(
    ctx.db,
    sql`insert into stage_invites (session_id, host_id, invitee_id, deadline, node_id)
        select ${sessionId}, ${hostId}, ${inviteeId}, ${deadline.toISOString()}::timestamptz, ${nodeId}
        where exists (select 1 from live_sessions where id = ${sessionId} and status = 'live')
        returning id, invited_at, deadline`,
  );
  return row ?? null;
}

/**
 * POST /api/stage/invite: the host calls a viewer of the live by handle. The checks, in order:
 * the live and its host, the user, self, blocked (either way), on stage, stage full, watching (a peer in the
 * room on one of the session's nodes: the invite is bound to that node; or on the live's HLS, past
 * its WebRTC capacity: no node yet, the page connects to one to answer). The partial unique index
 * on pending (session, invitee) refuses a second ringing invite, also under races (INVITE_PENDING).
 */
export async function createInvite(ctx: StageContext, hostId: string, sessionId: string, handle: string): Promise<StageInvite> {
  const [liveRow, invitee] = await Promise.all([sharedLiveRow(ctx, sessionId), findInvitee(ctx, handle, hostId)]);
  const live = checkHostedLive(liveRow, hostId);
  if (invitee === undefined) throw new ApiError('USER_NOT_FOUND');
  if (invitee.id === hostId) throw new ApiError('CANNOT_INVITE_SELF');
  if (invitee.blockedHost) throw new ApiError('BLOCKED');
  if (invitee.blockedByHost) throw new ApiError('INVITEE_BLOCKED');
  if (!invitee.emailVerified) throw new ApiError('INVITEE_NOT_VERIFIED');
  const [guests, node] = await Promise.all([
    ctx.guests.list(sessionId),
    watchingNode(ctx, sessionId, live.session.originNodeId ?? '', invitee.id).catch((err: unknown) => {
      throw new ApiError('BAD_GATEWAY', { message: 'The media node could not be reached', cause: err });
    }),
  ]);
  if (guests.some((entry) => entry.guest.id === invitee.id)) throw new ApiError('ALREADY_ON_STAGE');
  if (guests.length >= ctx.maxGuests) throw new ApiError('STAGE_FULL');
  if (node === null && !(await ctx.placement.isWatchingHls(sessionId, invitee.id))) throw new ApiError('NOT_WATCHING');

  let row: InsertedRow | null;
  try {
    row = await insertInvite(ctx, sessionId, hostId, invitee.id, node?.id ?? null);
  } catch (err) {
    if (!isUniqueViolation(err, ONE_PENDING)) throw err;
    // A ringing invite, unless it is only past its deadline and not yet swept: expire it, try once more.
    const expired = await ctx.expiry.expire(sql`session_id = ${sessionId} and invitee_id = ${invitee.id}`);
    if (expired === 0) throw new ApiError('INVITE_PENDING', { cause: err });
    row = await insertInvite(ctx, sessionId, hostId, invitee.id, node?.id ?? null).catch((again: unknown) => {
      throw isUniqueViolation(again, ONE_PENDING) ? new ApiError('INVITE_PENDING', { cause: again }) : again;
    });
  }
  if (row === null) throw new ApiError('LIVE_ENDED');

  const invite: StageInvite = {
    id: row.id,
    sessionId,
    sessionTitle: live.session.title,
    status: 'pending',
    host: toPerson(live.host),
    invitee: toPerson(invitee),
    deadline: iso(row.deadline),
    createdAt: iso(row.invited_at),
  };
  ctx.expiry.schedule(invite.id, new Date(invite.deadline));
  ctx.metrics.invites.inc({ outcome: 'sent' });
  await Promise.all([
    ctx.events.toUser(invitee.id, { type: 'stage_invite', invite }),
    ctx.events.toUser(hostId, { type: 'stage_invite_sent', invite }),
  ]).catch((err: unknown) => ctx.log.error({ err, inviteId: invite.id }, 'publishing the stage invite failed'));
  return invite;
}
