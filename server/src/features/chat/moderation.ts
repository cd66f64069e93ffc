import { and, chatMessages, eq, isNull, pinnedMessages, sql } from '@podlive/db';
import type { ChatMessage } from '@podlive/shared/chat';
import { ApiError } from '../../errors';
import { canModerate, chatSessionOrThrow, moderatedSession } from './access';
import type { ChatContext } from './context';
import { selectMessages, toChatMessage } from './present';

/** A visible message of the live, or 404 CHAT_MESSAGE_NOT_FOUND (also for a deleted one). */
async function visibleMessage(ctx: ChatContext, sessionId: string, messageId: string): Promise<{ message: ChatMessage; authorId: string }> {
  const [row] = await selectMessages(ctx.db, and(eq(chatMessages.id, messageId), eq(chatMessages.sessionId, sessionId), isNull(chatMessages.deletedAt))).limit(1);
  if (row === undefined) throw new ApiError('CHAT_MESSAGE_NOT_FOUND');
  return { message: toChatMessage(row), authorId: row.author.id };
}

/** Pins a message over the chat (replacing the pin) and tells everyone in the live. */
export async function pinMessage(ctx: ChatContext, sessionId: string, callerId: string, messageId: string): Promise<ChatMessage> {
  await moderatedSession(ctx.db, sessionId, callerId);
  const { message } = await visibleMessage(ctx, sessionId, messageId);
  await ctx.db
    .insert(pinnedMessages)
    .values({ sessionId, messageId, pinnedBy: callerId })
    .onConflictDoUpdate({ target: pinnedMessages.sessionId, set: { messageId, pinnedBy: callerId, pinnedAt: sql`now()` } });
  await ctx.events.toSession(sessionId, { type: 'chat_pinned', sessionId, message });
  return message;
}

export async function unpinMessage(ctx: ChatContext, sessionId: string, callerId: string): Promise<void> {
  await moderatedSession(ctx.db, sessionId, callerId);
  const removed = await ctx.db.delete(pinnedMessages).where(eq(pinnedMessages.sessionId, sessionId)).returning({ id: pinnedMessages.messageId });
  if (removed.length > 0) await ctx.events.toSession(sessionId, { type: 'chat_pinned', sessionId, message: null });
}

/**
 * Soft-deletes a message (the row stays for reports): by its author, the host or a moderator.
 * A deleted message that was pinned is unpinned too, so no client keeps showing it.
 */
export async function deleteMessage(ctx: ChatContext, sessionId: string, callerId: string, messageId: string): Promise<void> {
  const session = await chatSessionOrThrow(ctx.db, sessionId);
  const { authorId } = await visibleMessage(ctx, sessionId, messageId);
  if (authorId !== callerId && !(await canModerate(ctx.db, session, callerId))) throw new ApiError('NOT_AUTHOR_OR_MODERATOR');
  const unpinned = await ctx.db.transaction(async (tx) => {
    await tx.update(chatMessages).set({ deletedAt: sql`now()` }).where(and(eq(chatMessages.id, messageId), isNull(chatMessages.deletedAt)));
    return tx.delete(pinnedMessages).where(and(eq(pinnedMessages.sessionId, sessionId), eq(pinnedMessages.messageId, messageId))).returning({ id: pinnedMessages.messageId });
  });
  await ctx.events.toSession(sessionId, { type: 'chat_deleted', sessionId, messageId });
  if (unpinned.length > 0) await ctx.events.toSession(sessionId, { type: 'chat_pinned', sessionId, message: null });
}
