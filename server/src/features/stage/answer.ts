import { queryRows, sql } from '@podlive/db';
import type { StageAcceptResponse, StageGuest, StageInvite } from '@podlive/shared/stage';
import { signMediaToken } from '@podlive/shared/tokens';
import { iceServersFor } from '../../media/turn';
import { ApiError } from '../../errors';
import { GUEST_GRANT_TTL_SEC, type StageContext } from './context';
import { loadInvite } from './present';
import { watchingNode } from './watching';

interface LockedRow extends Record<string, unknown> {
  session_id: string;
  invitee_id: string;
  status: string;
  due: boolean;
}

type Outcome = { ok: true; originNodeId: string | null } | { ok: false; code: 'INVITE_NOT_FOUND' | 'NOT_INVITEE' | 'INVITE_ANSWERED' | 'INVITE_EXPIRED' | 'LIVE_ENDED' | 'STAGE_FULL'; expire?: boolean };

/**
 * Answers a pending invite in one transaction: the invite row locked, then (accepting) the session
 * row, so concurrent accepts cannot overfill the stage. An invite past its deadline is expired
 * (with its events) whatever the answer was.
 */
async function answer(ctx: StageContext, inviteId: string, userId: string, status: 'accepted' | 'rejected'): Promise<Outcome> {
  return ctx.db.transaction(async (tx) => {
    const [invite] = await queryRows<LockedRow>(
      tx,
      sql`select session_id, invitee_id, status, deadline <= now() as due from stage_invites where id = ${inviteId} for update`,
    );
    if (invite === undefined) return { ok: false, code: 'INVITE_NOT_FOUND' };
    if (invite.invitee_id !== userId) return { ok: false, code: 'NOT_INVITEE' };
    if (invite.status === 'expired') return { ok: false, code: 'INVITE_EXPIRED' };
    if (invite.status !== 'pending') return { ok: false, code: 'INVITE_ANSWERED' };
    if (invite.due) return { ok: false, code: 'INVITE_EXPIRED', expire: true };
    let originNodeId: string | null = null;
    if (status === 'accepted') {
      const [session] = await queryRows<{ status: string; guests: number; origin_node_id: string | null }>(
        tx,
        sql`select s.status, s.origin_node_id, (select count(*)::int from stage_invites g where g.session_id = s.id and g.status = 'accepted') as guests
            from live_sessions s where s.id = ${invite.session_id} for update`,
      );
      if (session?.status !== 'live') return { ok: false, code: 'LIVE_ENDED' };
      if (session.guests >= ctx.maxGuests) return { ok: false, code: 'STAGE_FULL' };
      originNodeId = session.origin_node_id;
    }
    await tx.execute(sql`update stage_invites set status = ${status}, answered_at = now() where id = ${inviteId}`);
    return { ok: true, originNodeId };
  });
}

interface Answered extends StageInvite {
  nodeId: string | null;
  originNodeId: string | null;
}

async function answered(ctx: StageContext, inviteId: string, userId: string, status: 'accepted' | 'rejected'): Promise<Answered> {
  const outcome = await answer(ctx, inviteId, userId, status);
  if (!outcome.ok) {
    if (outcome.expire === true) await ctx.expiry.expire(sql`id = ${inviteId}`);
    throw new ApiError(outcome.code);
  }
  ctx.expiry.cancel(inviteId);
  ctx.metrics.invites.inc({ outcome: status });
  const record = await loadInvite(ctx.db, inviteId);
  if (record === null) throw new ApiError('INVITE_NOT_FOUND');
  return { ...record.invite, nodeId: record.nodeId, originNodeId: outcome.originNodeId };
}

/**
 * The node the invitee watches on now: the invite recorded where they watched when it was sent, but
 * a viewer moves when its node dies or drains, and the grant only works on the node it names. The
 * recorded node stands when they cannot be found (their page reconnecting) or the nodes cannot be asked.
 */
async function guestNode(ctx: StageContext, invite: Answered, inviteId: string, userId: string): Promise<string> {
  const recorded = invite.nodeId ?? '';
  const now = await watchingNode(ctx, invite.sessionId, invite.originNodeId ?? '', userId).catch((err: unknown) => {
    ctx.log.warn({ err, inviteId }, 'finding the invitee’s media node failed; using the invite’s');
    return null;
  });
  if (now === null || now.id === recorded) return recorded;
  await ctx.db.execute(sql`update stage_invites set node_id = ${now.id} where id = ${inviteId}`);
  return now.id;
}

/**
 * The invitee accepts: on stage (stage list), a one-time guest grant for the node they watch on,
 * stage_invite_accepted to the host and the invitee's connections, stage_guest_joined to the live.
 */
export async function acceptInvite(ctx: StageContext, inviteId: string, userId: string): Promise<StageAcceptResponse> {
  const result = await answered(ctx, inviteId, userId, 'accepted');
  const { nodeId: _recorded, originNodeId: _origin, ...invite } = result;
  const node = await guestNode(ctx, result, inviteId, userId);
  const token = await signMediaToken(
    ctx.mediaKey,
    // The grant's id is the invite's: the node asks the control plane whether that invite still stands.
    { sid: invite.sessionId, sub: userId, role: 'guest', node, jti: inviteId, name: invite.invitee.displayName.slice(0, 100) },
    GUEST_GRANT_TTL_SEC,
  );
  const guest: StageGuest = { ...invite.invitee, muted: false, joinedAt: new Date().toISOString() };
  await ctx.guests.put(invite.sessionId, { guest, nodeId: node, inviteId });
  const accepted = { type: 'stage_invite_accepted', inviteId, sessionId: invite.sessionId, userId } as const;
  await Promise.all([
    ctx.events.toUsers([invite.host.id, userId], accepted),
    ctx.events.toSession(invite.sessionId, { type: 'stage_guest_joined', sessionId: invite.sessionId, guest }),
  ]).catch((err: unknown) => ctx.log.error({ err, inviteId }, 'publishing the accept failed'));
  return { invite, grant: { token, nodeId: node, iceServers: iceServersFor(ctx.turn, userId, GUEST_GRANT_TTL_SEC) } };
}

/** The invitee declines (or their browser refused the mic): stage_invite_rejected to host and invitee. */
export async function rejectInvite(ctx: StageContext, inviteId: string, userId: string, reason: 'declined' | 'permission_denied'): Promise<StageInvite> {
  const { nodeId: _node, originNodeId: _origin, ...invite } = await answered(ctx, inviteId, userId, 'rejected');
  const event = { type: 'stage_invite_rejected', inviteId, sessionId: invite.sessionId, userId, reason } as const;
  await ctx.events.toUsers([invite.host.id, userId], event).catch((err: unknown) => ctx.log.error({ err, inviteId }, 'publishing the reject failed'));
  return invite;
}
