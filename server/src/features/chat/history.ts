import { and, blocks, chatMessages, desc, eq, isNull, pinnedMessages, sql } from '@podlive/db';
import { CHAT_HISTORY_LIMIT, type ChatMessage, type ChatState } from '@podlive/shared/chat';
import { canModerate, chatSessionOrThrow, restrictionOf } from './access';
import type { ChatContext } from './context';
import { selectMessages, toChatMessage } from './present';

/** `chat_messages.user_id` is not someone `viewerId` blocked (true for anonymous viewers). */
const notBlockedBy = (viewerId: string | null) =>
  viewerId === null
    ? undefined
    : sql`not exists (select 1 from ${blocks} where ${blocks.blockerId} = ${viewerId} and ${blocks.blockedId} = ${chatMessages.userId})`;

/**
 * GET /api/live/:id/chat: the last CHAT_HISTORY_LIMIT visible messages, oldest first (what a
 * viewer joining sees before /ws takes over), the pin, and the caller's standing. Authors the
 * caller blocked are left out before the limit, so a blocked flood does not push history away.
 */
export async function chatState(ctx: ChatContext, sessionId: string, viewerId: string | null): Promise<ChatState> {
  const session = await chatSessionOrThrow(ctx.db, sessionId);
  const visible = and(eq(chatMessages.sessionId, sessionId), isNull(chatMessages.deletedAt), notBlockedBy(viewerId));
  const [recent, pinned, moderates, restriction] = await Promise.all([
    selectMessages(ctx.db, visible).orderBy(desc(chatMessages.createdAt), desc(chatMessages.id)).limit(CHAT_HISTORY_LIMIT),
    pinnedMessage(ctx, sessionId, viewerId),
    viewerId === null ? false : canModerate(ctx.db, session, viewerId),
    viewerId === null ? null : restrictionOf(ctx.db, session, viewerId),
  ]);
  return { messages: recent.reverse().map(toChatMessage), pinned, canModerate: moderates, restriction };
}

/** The live's pinned message, unless it was deleted or its author is blocked by the viewer. */
export async function pinnedMessage(ctx: ChatContext, sessionId: string, viewerId: string | null = null): Promise<ChatMessage | null> {
  const [row] = await selectMessages(ctx.db, and(isNull(chatMessages.deletedAt), notBlockedBy(viewerId)))
    .innerJoin(pinnedMessages, and(eq(pinnedMessages.messageId, chatMessages.id), eq(pinnedMessages.sessionId, sessionId)))
    .limit(1);
  return row === undefined ? null : toChatMessage(row);
}
