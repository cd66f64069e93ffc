import { relations, sql } from 'drizzle-orm';
import { check, index, pgEnum, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { liveSessions } from './sessions';
import { users } from './users';

/**
 * A user barred from chatting. With a session: in that live only (set by its host or a
 * moderator). Without: everywhere (set by staff).
 */
export const chatBans = pgTable(
  'chat_bans',
  {
    id: id(),
    sessionId: uuid('session_id').references(() => liveSessions.id, { onDelete: 'cascade' }),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    bannedBy: uuid('banned_by').references(() => users.id, { onDelete: 'set null' }),
    reason: text('reason'),
    /** Null: the ban never expires. */
    expiresAt: timestamptz('expires_at'),
    createdAt: createdAt(),
  },
  (t) => [
    /** "Is this user banned here?" on every chat message. */
    index('chat_bans_user_session_idx').on(t.userId, t.sessionId),
    index('chat_bans_session_idx').on(t.sessionId),
  ],
);

export const chatBansRelations = relations(chatBans, ({ one }) => ({
  session: one(liveSessions, { fields: [chatBans.sessionId], references: [liveSessions.id] }),
  user: one(users, { fields: [chatBans.userId], references: [users.id] }),
}));

export const reportTarget = pgEnum('report_target', ['user', 'session', 'chat_message', 'recording']);
export const reportStatus = pgEnum('report_status', ['open', 'reviewing', 'resolved', 'dismissed']);

export const reports = pgTable(
  'reports',
  {
    id: id(),
    /** Null once the reporter's account is deleted: the report stays for the moderators. */
    reporterId: uuid('reporter_id').references(() => users.id, { onDelete: 'set null' }),
    targetKind: reportTarget('target_kind').notNull(),
    /** Id of the reported row in the table `targetKind` names (polymorphic, so no foreign key). */
    targetId: uuid('target_id').notNull(),
    reason: text('reason').notNull(),
    status: reportStatus('status').notNull().default('open'),
    createdAt: createdAt(),
  },
  (t) => [
    /** The moderation queue. */
    index('reports_status_created_idx').on(t.status, t.createdAt),
    /** All reports about one thing. */
    index('reports_target_idx').on(t.targetKind, t.targetId),
    check('reports_reason_check', sql`char_length(${t.reason}) between 1 and 2000`),
  ],
);

export const reportsRelations = relations(reports, ({ one }) => ({
  reporter: one(users, { fields: [reports.reporterId], references: [users.id] }),
}));
