import { queryRows, sql } from '@podlive/db';
import type { StageGuest, StageLeftReason } from '@podlive/shared/stage';
import { ApiError } from '../../errors';
import { muteUser, NodeCommandError, revokeUser } from '../live/sfu-control';
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
    await muteUser(node, sessionId, userId, muted, ctx.mediaSecret);
  } catch (err) {
    if (err instanceof NodeCommandError && err.status === 404) throw new ApiError('NOT_ON_STAGE', { message: 'The guest is not connected', cause: err });
    throw new ApiError('BAD_GATEWAY', { message: 'The media node could not be reached', cause: err });
  }
  const guest = { ...entry.guest, muted };
  await ctx.guests.put(sessionId, { ...entry, guest });
  await ctx.events.toSession(sessionId, { type: 'stage_guest_muted', sessionId, userId, muted });
  return guest;
}

/**
 * The guest leaves the stage (`left`, `permission_denied`) or the host removes them (`removed`):
 * the node revokes the grant (producers closed everywhere), the invite ends, stage_guest_left to
 * the live with the reason. A removal fails (502) when the node cannot be told; a guest leaving
 * by themselves is taken off the stage anyway.
 */
export async function leaveStage(ctx: StageContext, sessionId: string, userId: string, reason: Exclude<StageLeftReason, 'ended'>): Promise<void> {
  const entry = await ctx.guests.get(sessionId, userId);
  const [row] = await queryRows<{ node_id: string | null }>(
    ctx.db,
    sql`select node_id from stage_invites where session_id = ${sessionId} and invitee_id = ${userId} and status = 'accepted' limit 1`,
  );
  if (row === undefined && entry === null) throw new ApiError('NOT_ON_STAGE');
  const node = await ctx.placement.node(row?.node_id ?? entry?.nodeId ?? '');
  if (node !== null) {
    await revokeUser(node, sessionId, userId, reason === 'removed' ? 'removed' : 'left', ctx.mediaSecret).catch((err: unknown) => {
      if (reason === 'removed') throw new ApiError('BAD_GATEWAY', { message: 'The media node could not be reached', cause: err });
      ctx.log.warn({ err, sessionId, userId }, 'revoking a leaving guest on the node failed');
    });
  }
  await ctx.db.execute(
    sql`update stage_invites set status = 'ended', left_at = now() where session_id = ${sessionId} and invitee_id = ${userId} and status = 'accepted'`,
  );
  await ctx.guests.remove(sessionId, userId);
  await ctx.events.toSession(sessionId, { type: 'stage_guest_left', sessionId, userId, reason });
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
