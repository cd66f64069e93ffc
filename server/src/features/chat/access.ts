import { and, blocks, chatBans, type Db, eq, liveSessions, sessionModerators, sql, users } from '@podlive/db';
import type { LiveStatus } from '@podlive/shared/live';
import type { ChatRestriction } from '@podlive/shared/chat';
import { ApiError } from '../../errors';

/** What chat needs of a live. */
export interface ChatSession {
  id: string;
  hostId: string;
  status: LiveStatus;
}

export async function findChatSession(db: Db, sessionId: string): Promise<ChatSession | undefined> {
  const [row] = await db
    .select({ id: liveSessions.id, hostId: liveSessions.hostId, status: liveSessions.status })
    .from(liveSessions)
    .where(eq(liveSessions.id, sessionId))
    .limit(1);
  return row;
}

export async function chatSessionOrThrow(db: Db, sessionId: string): Promise<ChatSession> {
  const session = await findChatSession(db, sessionId);
  if (session === undefined) throw new ApiError('LIVE_NOT_FOUND');
  return session;
}

/** 404 USER_NOT_FOUND unless the user exists. */
export async function requireUser(db: Db, userId: string): Promise<void> {
  const [row] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).limit(1);
  if (row === undefined) throw new ApiError('USER_NOT_FOUND');
}

export async function isModerator(db: Db, sessionId: string, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ userId: sessionModerators.userId })
    .from(sessionModerators)
    .where(and(eq(sessionModerators.sessionId, sessionId), eq(sessionModerators.userId, userId)))
    .limit(1);
  return row !== undefined;
}

/**
 * The host of the live, or a moderator the host appointed for it, while it is on air: the rights
 * are for that live only, so they end with it (its restrictions reach the host's other lives), and
 * a moderator who is banned or timed out in it has none.
 */
export async function canModerate(db: Db, session: ChatSession, userId: string): Promise<boolean> {
  if (session.hostId === userId) return true;
  if (session.status !== 'live') return false;
  const [appointed, restriction] = await Promise.all([isModerator(db, session.id, userId), restrictionOf(db, session, userId)]);
  return appointed && restriction === null;
}

/** The live (404 when unknown) when `userId` may moderate its chat (403 NOT_MODERATOR otherwise). */
export async function moderatedSession(db: Db, sessionId: string, userId: string): Promise<ChatSession> {
  const session = await chatSessionOrThrow(db, sessionId);
  if (!(await canModerate(db, session, userId))) throw new ApiError('NOT_MODERATOR');
  return session;
}

/**
 * The user's standing in a live's chat: a ban beats a timeout, the latest timeout counts. Bans
 * apply host-wide (host_id), to the one live (session_id only) or everywhere (neither, by staff).
 */
export async function restrictionOf(db: Db, session: ChatSession, userId: string): Promise<ChatRestriction | null> {
  const rows = await db
    .select({ expiresAt: chatBans.expiresAt })
    .from(chatBans)
    .where(
      and(
        eq(chatBans.userId, userId),
        sql`(${chatBans.hostId} = ${session.hostId} or (${chatBans.hostId} is null and (${chatBans.sessionId} = ${session.id} or ${chatBans.sessionId} is null)))`,
        sql`(${chatBans.expiresAt} is null or ${chatBans.expiresAt} > now())`,
      ),
    );
  if (rows.length === 0) return null;
  if (rows.some((row) => row.expiresAt === null)) return { kind: 'ban', until: null };
  const until = Math.max(...rows.map((row) => (row.expiresAt as Date).getTime()));
  return { kind: 'timeout', until: new Date(until).toISOString() };
}

/** Whether `blockerId` blocked `blockedId`. */
export async function hasBlocked(db: Db, blockerId: string, blockedId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: blocks.blockedId })
    .from(blocks)
    .where(and(eq(blocks.blockerId, blockerId), eq(blocks.blockedId, blockedId)))
    .limit(1);
  return row !== undefined;
}

/** Everyone `userId` blocked (their chat is hidden from this user). */
export async function blockedIds(db: Db, userId: string): Promise<Set<string>> {
  const rows = await db.select({ id: blocks.blockedId }).from(blocks).where(eq(blocks.blockerId, userId));
  return new Set(rows.map((row) => row.id));
}
