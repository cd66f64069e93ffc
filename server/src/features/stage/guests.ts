import { queryRows, sql } from '@podlive/db';
import type { StageGuest, StageLeftReason } from '@podlive/shared/stage';
import { ApiError } from '../../errors';
import { muteUser, NodeCommandError, revokeUser } from '../live/sfu-control';
import type { NodeRef } from '../live/placement';
import type { StageContext } from './context';
import { hostedLiveRow } from './invite';
import { iso, toPerson } from './present';

export async function listGuests(ctx: StageContext, sessionId: string): Promise<StageGuest[]> {
  const entries = await ctx.guests.list(sessionId);
  return entries.map((entry) => entry.guest).sort((a, b) => a.joinedAt.localeCompare(b.joinedAt));
}

/** The host mutes or unmutes a guest: the node pauses their producers; stage_guest_muted to the live. */
export async function muteGuest(ctx: StageContext, hostId: string, sessionId: string, userId: string, muted: boolean): Promise<StageGuest> {
  await hostedLiveRow(ctx, sessionId, hostId);
  const entry = await ctx.guests.get(sessionId, userId);
  if (entry === null) throw new ApiError('NOT_ON_STAGE');
  const node = await ctx.placement.node(entry.nodeId);
  if (node === null) throw new ApiError('SERVICE_UNAVAILABLE', { message: 'The guest’s media node is gone' });
  try {
    await muteUser(node, sessionId, userId, muted, ctx.mediaKey);
  } catch (err) {
    if (err instanceof NodeCommandError && err.status === 404) throw new ApiError('NOT_ON_STAGE', { message: 'The guest is not connected', cause: err });
    throw new ApiError('BAD_GATEWAY', { message: 'The media node could not be reached', cause: err });
  }
  const guest = { ...entry.guest, muted };
  await ctx.guests.put(sessionId, { ...entry, guest });
  await ctx.events.toSession(sessionId, { type: 'stage_guest_muted', sessionId, userId, muted });
  return guest;
}

interface EndedInvite extends Record<string, unknown> {
  id: string;
  host_id: string;
  /** The status before it ended: `pending` (withdrawn) or `accepted` (on stage, or grant not redeemed yet). */
  was: 'pending' | 'accepted';
  node_id: string | null;
}

/** Ends the user's invites of the live in `statuses` (one statement), returning what they were. */
function endInvites(ctx: StageContext, sessionId: string, userId: string, statuses: Array<'pending' | 'accepted'>): Promise<EndedInvite[]> {
  return queryRows<EndedInvite>(
    ctx.db,
    sql`update stage_invites i set status = 'ended', left_at = now()
        from (select id, status from stage_invites
              where session_id = ${sessionId} and invitee_id = ${userId} and status in (${sql.join(statuses.map((s) => sql`${s}::invite_status`), sql`, `)})
              for update) old
        where i.id = old.id
        returning i.id, i.host_id, old.status as was, i.node_id`,
  );
}

/**
 * Tells each node to revoke the user on the live (their producers close, their unredeemed grants
 * stop working there). Rejects with the first failure among `required` nodes; others are logged.
 */
async function revokeOn(ctx: StageContext, sessionId: string, userId: string, reason: 'removed' | 'left', required: NodeRef[], others: NodeRef[]): Promise<void> {
  const requiredIds = new Set(required.map((node) => node.id));
  const targets = [...required, ...others.filter((node) => !requiredIds.has(node.id))];
  const results = await Promise.allSettled(targets.map((node) => revokeUser(node, sessionId, userId, reason, ctx.mediaKey)));
  let failure: unknown;
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') return;
    ctx.log.warn({ err: result.reason, sessionId, userId, nodeId: targets[i]?.id }, 'revoking a guest on a media node failed');
    if (requiredIds.has(targets[i]?.id ?? '')) failure ??= result.reason;
  });
  if (failure !== undefined) throw failure;
}

async function nodesById(ctx: StageContext, ids: Array<string | null | undefined>): Promise<NodeRef[]> {
  const unique = [...new Set(ids.filter((id): id is string => typeof id === 'string' && id !== ''))];
  const nodes = await Promise.all(unique.map((id) => ctx.placement.node(id)));
  return nodes.filter((node): node is NodeRef => node !== null);
}

/** The user left the stage (or was removed): off the list, and the live told (stage_guest_left). */
async function offStage(ctx: StageContext, sessionId: string, userId: string, reason: Exclude<StageLeftReason, 'ended'>): Promise<void> {
  await ctx.guests.remove(sessionId, userId);
  await ctx.events.toSession(sessionId, { type: 'stage_guest_left', sessionId, userId, reason });
}

/**
 * The guest leaves the stage by themselves (`left`, `permission_denied`): their accepted invite
 * ends first (so the grant, if not redeemed yet, is refused by the control plane from now on),
 * then the node revokes it (producers closed everywhere), stage_guest_left to the live. The guest
 * is taken off the stage even when the node cannot be told (logged).
 */
export async function leaveStage(ctx: StageContext, sessionId: string, userId: string, reason: 'left' | 'permission_denied'): Promise<void> {
  const entry = await ctx.guests.get(sessionId, userId);
  const ended = await endInvites(ctx, sessionId, userId, ['accepted']);
  if (ended.length === 0 && entry === null) throw new ApiError('NOT_ON_STAGE');
  const nodes = await nodesById(ctx, [...ended.map((row) => row.node_id), entry?.nodeId]);
  await revokeOn(ctx, sessionId, userId, 'left', [], nodes);
  await offStage(ctx, sessionId, userId, reason);
}

/**
 * The host takes `userId` off the stage of their live, whatever the state of their call: a ringing
 * invite is withdrawn (stage_invite_withdrawn to host and invitee), an accepted one ends whether
 * or not the grant was redeemed yet (stage_guest_left {removed}), and every node of the live
 * revokes the user, so none keeps a producer of theirs and none takes their grant. The invites
 * end before the nodes are told (a redeem asking the control plane meanwhile is refused); a
 * node holding their grant that cannot be told makes it 502, and repeating the call finishes it.
 * Idempotent: removing someone who is not on stage answers the same.
 */
export async function removeFromStage(ctx: StageContext, hostId: string, sessionId: string, userId: string): Promise<void> {
  const live = await hostedLiveRow(ctx, sessionId, hostId);
  const entry = await ctx.guests.get(sessionId, userId);
  const ended = await endInvites(ctx, sessionId, userId, ['pending', 'accepted']);
  for (const row of ended) if (row.was === 'pending') ctx.expiry.cancel(row.id);
  const accepted = ended.filter((row) => row.was === 'accepted');
  const [granted, all] = await Promise.all([
    nodesById(ctx, [...accepted.map((row) => row.node_id), entry?.nodeId]),
    ctx.placement.nodesOf(sessionId, live.session.originNodeId ?? ''),
  ]);
  try {
    await revokeOn(ctx, sessionId, userId, 'removed', granted, all);
  } catch (err) {
    throw new ApiError('BAD_GATEWAY', { message: 'The media node could not be reached', cause: err });
  }
  await Promise.all(
    ended
      .filter((row) => row.was === 'pending')
      .map((row) => ctx.events.toUsers([row.host_id, userId], { type: 'stage_invite_withdrawn', inviteId: row.id, sessionId, userId })),
  ).catch((err: unknown) => ctx.log.error({ err, sessionId, userId }, 'publishing the withdrawn invite failed'));
  if (accepted.length > 0 || entry !== null) await offStage(ctx, sessionId, userId, 'removed');
}

interface EndedRow extends Record<string, unknown> {
  id: string;
  host_id: string;
  invitee_id: string;
  status: 'expired' | 'ended';
}

/** The live ended: ringing invites expire, guests leave (reason `ended`); the room itself is closed by the live. */
export async function endStage(ctx: StageContext, sessionId: string): Promise<void> {
  const rows = await queryRows<EndedRow>(
    ctx.db,
    sql`update stage_invites
        set status = (case when status = 'pending' then 'expired' else 'ended' end)::invite_status,
            answered_at = coalesce(answered_at, now()),
            left_at = case when status = 'accepted' then now() else left_at end
        where session_id = ${sessionId} and status in ('pending', 'accepted')
        returning id, host_id, invitee_id, status`,
  );
  await ctx.guests.clear(sessionId);
  await Promise.all(
    rows.map((row) => {
      ctx.expiry.cancel(row.id);
      if (row.status === 'expired') {
        return ctx.events.toUsers([row.host_id, row.invitee_id], { type: 'stage_invite_expired', inviteId: row.id, sessionId, userId: row.invitee_id });
      }
      return ctx.events.toSession(sessionId, { type: 'stage_guest_left', sessionId, userId: row.invitee_id, reason: 'ended' });
    }),
  );
}

interface OnStageRow extends Record<string, unknown> {
  id: string;
  session_id: string;
  node_id: string | null;
  answered_at: Date | string | null;
  invited_at: Date | string;
  u_id: string;
  handle: string;
  display_name: string;
  avatar_key: string | null;
}

/** At start-up: the stage list from Postgres (accepted, not left, live sessions). Returns the guest count. */
export async function rebuildStageList(ctx: StageContext): Promise<number> {
  const rows = await queryRows<OnStageRow>(
    ctx.db,
    sql`select i.id, i.session_id, i.node_id, i.answered_at, i.invited_at, u.id as u_id, u.handle, u.display_name, u.avatar_key
        from stage_invites i join live_sessions s on s.id = i.session_id join users u on u.id = i.invitee_id
        where i.status = 'accepted' and i.left_at is null and s.status = 'live'`,
  );
  for (const row of rows) {
    const person = toPerson({ id: row.u_id, handle: row.handle, displayName: row.display_name, avatarKey: row.avatar_key });
    const guest: StageGuest = { ...person, muted: false, joinedAt: iso(row.answered_at ?? row.invited_at) };
    await ctx.guests.putIfAbsent(row.session_id, { guest, nodeId: row.node_id ?? '', inviteId: row.id });
  }
  return rows.length;
}
