import { and, eq, sessionModerators } from '@podlive/db';
import { ApiError } from '../../errors';
import { chatSessionOrThrow, requireUser } from './access';
import type { ChatContext } from './context';

/**
 * Appoints (true) or dismisses (false) a moderator of one live; the host only. The user's
 * connections learn it (their chat shows the tools) and so does the live (badges). Repeating
 * either is harmless and announces nothing new.
 */
export async function setModerator(ctx: ChatContext, sessionId: string, callerId: string, userId: string, moderator: boolean): Promise<void> {
  const session = await chatSessionOrThrow(ctx.db, sessionId);
  if (session.hostId !== callerId) throw new ApiError('NOT_HOST');
  await requireUser(ctx.db, userId);
  if (userId === session.hostId) throw new ApiError('CANNOT_APPOINT');
  const changed = moderator
    ? await ctx.db.insert(sessionModerators).values({ sessionId, userId }).onConflictDoNothing().returning({ id: sessionModerators.userId })
    : await ctx.db
        .delete(sessionModerators)
        .where(and(eq(sessionModerators.sessionId, sessionId), eq(sessionModerators.userId, userId)))
        .returning({ id: sessionModerators.userId });
  if (changed.length === 0) return;
  const event = { type: 'chat_moderator', sessionId, userId, moderator } as const;
  await Promise.all([ctx.events.toUser(userId, event), ctx.events.toSession(sessionId, event)]);
}
