import { and, chatMessages, eq, sql, users } from '@podlive/db';
import { type ChatMessage, type ChatRefusal, type ChatSendMessage, type ChatWsEvent, chatText } from '@podlive/shared/chat';
import { hasBlocked, findChatSession, restrictionOf } from './access';
import type { ChatContext } from './context';
import type { ChatLimits } from './limits';
import { selectMessages, toChatMessage } from './present';

export interface ChatSendContext extends ChatContext {
  limits: ChatLimits;
}

type Refused = Extract<ChatWsEvent, { type: 'chat_refused' }>;

const refusal = (message: ChatSendMessage, code: ChatRefusal, text: string, retryAfterSec?: number): Refused => ({
  type: 'chat_refused',
  sessionId: message.sessionId,
  clientId: message.clientId,
  code,
  message: text,
  ...(retryAfterSec === undefined ? {} : { retryAfterSec }),
});

/**
 * One `chat_send` of a signed-in user. Returns the refusal for the sending connection, or null
 * when the message was stored (or had been: a resend), in which case the ack went to the user's
 * connections and, the first time, the message to everyone in the live.
 *
 * The checks run cheapest-to-undo first: nothing is counted against the user's limits for a
 * message the rules refuse anyway, and a resend is answered before the limits so it never looks
 * like a flood of itself.
 */
export async function sendChat(ctx: ChatSendContext, userId: string, message: ChatSendMessage): Promise<Refused | null> {
  const session = await findChatSession(ctx.db, message.sessionId);
  if (session === undefined || session.status !== 'live') return refusal(message, 'CHAT_CLOSED', 'The chat opens when the live starts and closes when it ends');
  const parsed = chatText.safeParse(message.body);
  if (!parsed.success) return refusal(message, 'CHAT_INVALID', parsed.error.issues[0]?.message ?? 'Invalid message');
  const body = parsed.data;
  const [author] = await ctx.db.select({ emailVerified: users.emailVerified }).from(users).where(eq(users.id, userId));
  if (author?.emailVerified !== true) return refusal(message, 'EMAIL_NOT_VERIFIED', 'Verify your email address to chat');

  const restriction = await restrictionOf(ctx.db, session, userId);
  if (restriction?.kind === 'ban') return refusal(message, 'CHAT_BANNED', 'You are banned from this host’s chats');
  if (restriction?.kind === 'timeout') {
    const retryAfterSec = Math.max(1, Math.ceil((Date.parse(restriction.until as string) - Date.now()) / 1000));
    return refusal(message, 'CHAT_TIMED_OUT', `You are timed out, you can chat again in ${retryAfterSec} s`, retryAfterSec);
  }
  if (await hasBlocked(ctx.db, session.hostId, userId)) return refusal(message, 'CHAT_BLOCKED', 'You cannot chat in this host’s lives');

  const stored = await storedMessage(ctx, userId, message.clientId);
  if (stored !== undefined) return acknowledge(ctx, userId, message.clientId, stored);

  const wait = await ctx.limits.rate(userId);
  if (wait !== null) return refusal(message, 'CHAT_RATE_LIMITED', `Slow down, you can send again in ${wait} s`, wait);
  const again = await ctx.limits.duplicate(userId, body);
  if (again !== null) return refusal(message, 'CHAT_DUPLICATE', 'You just sent this message');

  const inserted = await storeAndPublish(ctx, userId, message, body);
  // Lost the race to a resend of the same clientId on another connection: answer like a resend.
  return acknowledge(ctx, userId, message.clientId, inserted ?? (await storedMessage(ctx, userId, message.clientId)));
}

/**
 * Inserts and publishes under a per-live transaction lock, so the order messages are stored in is
 * the order they are published in, across replicas: one Redis channel per live keeps publish
 * order, and the next sender (on any replica) only gets the lock once this PUBLISH is done. The
 * timestamp is taken after the lock (clock_timestamp(), not the transaction's start) so
 * created_at order is that order too. Null when (user, clientId) was already stored.
 */
async function storeAndPublish(ctx: ChatSendContext, userId: string, message: ChatSendMessage, body: string): Promise<ChatMessage | null> {
  return ctx.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`chat:${message.sessionId}`}, 0))`);
    const [row] = await tx
      .insert(chatMessages)
      .values({ sessionId: message.sessionId, userId, body, clientId: message.clientId, createdAt: sql`clock_timestamp()` })
      .onConflictDoNothing()
      .returning({ id: chatMessages.id });
    if (row === undefined) return null;
    const [full] = await selectMessages(tx, eq(chatMessages.id, row.id));
    if (full === undefined) throw new Error('the inserted chat message is gone');
    const chat = toChatMessage(full);
    await ctx.events.toSession(message.sessionId, { type: 'chat_message', sessionId: message.sessionId, message: chat });
    return chat;
  });
}

async function storedMessage(ctx: ChatContext, userId: string, clientId: string): Promise<ChatMessage | undefined> {
  const [row] = await selectMessages(ctx.db, and(eq(chatMessages.userId, userId), eq(chatMessages.clientId, clientId))).limit(1);
  return row === undefined ? undefined : toChatMessage(row);
}

async function acknowledge(ctx: ChatContext, userId: string, clientId: string, message: ChatMessage | undefined): Promise<null> {
  if (message === undefined) throw new Error('a chat message with this clientId was neither inserted nor found');
  await ctx.events.toUser(userId, { type: 'chat_ack', sessionId: message.sessionId, clientId, message });
  return null;
}
