import { and, chatBans, eq, isNull, sql } from '@podlive/db';
import { CHAT_TIMEOUT_SEC, type ChatRestriction } from '@podlive/shared/chat';
import { ApiError } from '../../errors';
import { type ChatSession, isModerator, moderatedSession, requireUser, restrictionOf } from './access';
import type { ChatContext } from './context';

/** The host is never restricted; a moderator may not restrict a moderator (themselves included). */
async function restrictable(ctx: ChatContext, session: ChatSession, callerId: string, userId: string): Promise<void> {
  await requireUser(ctx.db, userId);
  if (userId === session.hostId) throw new ApiError('CANNOT_RESTRICT', { message: 'The host cannot be timed out or banned' });
  if (callerId !== session.hostId && (await isModerator(ctx.db, session.id, userId))) {
    throw new ApiError('CANNOT_RESTRICT', { message: 'Only the host can time out or ban a moderator' });
  }
}

async function announce(ctx: ChatContext, session: ChatSession, userId: string): Promise<ChatRestriction | null> {
  const restriction = await restrictionOf(ctx.db, session, userId);
  await ctx.events.toSession(session.id, { type: 'chat_restricted', sessionId: session.id, userId, restriction });
  return restriction;
}

/**
 * Restricts `userId` in every live of the session's host: a timeout (CHAT_TIMEOUT_SEC from now,
 * replacing an earlier one) or a ban (no expiry). The rows carry the host, not the session, so
 * the restriction follows the user into the host's next live. Returns the user's standing after
 * (a ban still wins over a new timeout).
 */
export async function restrictUser(ctx: ChatContext, sessionId: string, callerId: string, userId: string, kind: ChatRestriction['kind']): Promise<ChatRestriction | null> {
  const session = await moderatedSession(ctx.db, sessionId, callerId);
  await restrictable(ctx, session, callerId, userId);
  const sameKind = kind === 'ban' ? isNull(chatBans.expiresAt) : sql`${chatBans.expiresAt} is not null`;
  await ctx.db.transaction(async (tx) => {
    await tx.delete(chatBans).where(and(eq(chatBans.hostId, session.hostId), eq(chatBans.userId, userId), sameKind));
    await tx.insert(chatBans).values({
      hostId: session.hostId,
      userId,
      bannedBy: callerId,
      expiresAt: kind === 'ban' ? null : sql`now() + make_interval(secs => ${CHAT_TIMEOUT_SEC})`,
    });
  });
  return announce(ctx, session, userId);
}

/** Lifts every ban and timeout of `userId` in the host's chats; never one's own (only the host lifts a moderator's). */
export async function unrestrictUser(ctx: ChatContext, sessionId: string, callerId: string, userId: string): Promise<ChatRestriction | null> {
  const session = await moderatedSession(ctx.db, sessionId, callerId);
  if (userId === callerId) throw new ApiError('CANNOT_UNRESTRICT_SELF');
  await ctx.db.delete(chatBans).where(and(eq(chatBans.hostId, session.hostId), eq(chatBans.userId, userId)));
  return announce(ctx, session, userId);
}
