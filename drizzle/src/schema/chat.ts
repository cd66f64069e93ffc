import { relations, sql } from 'drizzle-orm';
import { check, index, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { liveSessions } from './sessions';
import { users } from './users';

/** Chat of a live, kept after the live for the replay. */
export const chatMessages = pgTable(
  'chat_messages',
  {
    id: id(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    /** The sender's id for this message (chat_send.clientId): a resend finds the stored one. */
    clientId: uuid('client_id'),
    /** Set when a moderator or the author removes the message: the row stays for reports. */
    deletedAt: timestamptz('deleted_at'),
    createdAt: createdAt(),
  },
  (t) => [
    /** A session's chat in order (history on join, replay). */
    index('chat_messages_session_created_idx').on(t.sessionId, t.createdAt),
    index('chat_messages_user_idx').on(t.userId),
    uniqueIndex('chat_messages_user_client_uniq').on(t.userId, t.clientId),
    check('chat_messages_body_check', sql`char_length(${t.body}) between 1 and 500`),
  ],
);

export const chatMessagesRelations = relations(chatMessages, ({ one }) => ({
  session: one(liveSessions, { fields: [chatMessages.sessionId], references: [liveSessions.id] }),
  user: one(users, { fields: [chatMessages.userId], references: [users.id] }),
}));

/** The message the host pinned over the chat: at most one per session (the key). */
export const pinnedMessages = pgTable('pinned_messages', {
  sessionId: uuid('session_id')
    .primaryKey()
    .references(() => liveSessions.id, { onDelete: 'cascade' }),
  messageId: uuid('message_id')
    .notNull()
    .references(() => chatMessages.id, { onDelete: 'cascade' }),
  pinnedBy: uuid('pinned_by').references(() => users.id, { onDelete: 'set null' }),
  pinnedAt: timestamptz('pinned_at').notNull().defaultNow(),
});

export const pinnedMessagesRelations = relations(pinnedMessages, ({ one }) => ({
  session: one(liveSessions, { fields: [pinnedMessages.sessionId], references: [liveSessions.id] }),
  message: one(chatMessages, { fields: [pinnedMessages.messageId], references: [chatMessages.id] }),
}));

/** Users the host appointed to moderate one live's chat. */
export const sessionModerators = pgTable(
  'session_moderators',
  {
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.sessionId, t.userId] })],
);
