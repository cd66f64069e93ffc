import { chatMessages, type Db, eq, type SQL, users } from '@podlive/db';
import type { ChatMessage } from '@podlive/shared/chat';
import { mediaUrl } from '../../media/routes';

/** The columns a ChatMessage is made of: the row and its author. */
export const messageColumns = {
  id: chatMessages.id,
  sessionId: chatMessages.sessionId,
  body: chatMessages.body,
  createdAt: chatMessages.createdAt,
  author: { id: users.id, handle: users.handle, displayName: users.displayName, avatarKey: users.avatarKey },
};

export interface MessageRow {
  id: string;
  sessionId: string;
  body: string;
  createdAt: Date;
  author: { id: string; handle: string; displayName: string; avatarKey: string | null };
}

export function toChatMessage(row: MessageRow): ChatMessage {
  const { author } = row;
  return {
    id: row.id,
    sessionId: row.sessionId,
    author: { id: author.id, handle: author.handle, displayName: author.displayName, avatarUrl: mediaUrl(author.avatarKey) },
    body: row.body,
    createdAt: row.createdAt.toISOString(),
  };
}

/** Messages matching `where`, with their authors (unordered; callers order and limit). */
export function selectMessages(db: Pick<Db, 'select'>, where: SQL | undefined) {
  return db.select(messageColumns).from(chatMessages).innerJoin(users, eq(users.id, chatMessages.userId)).where(where);
}
