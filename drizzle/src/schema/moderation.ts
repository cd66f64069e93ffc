import { relations, sql } from 'drizzle-orm';
import { check, index, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { liveSessions } from './sessions';
import { users } from './users';

/**
 * A user barred from chatting. With a host: in that host's lives (a ban, or a timeout with an
 * expiry; set by the host or a moderator of one of their lives). With a session only: that live.
 * With neither: everywhere (set by staff).
 */
export const chatBans = pgTable(
  'chat_bans',
  {
    id: id(),
    sessionId: uuid('session_id').references(() => liveSessions.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id').references(() => users.id, { onDelete: 'cascade' }),
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
    index('chat_bans_host_user_idx').on(t.hostId, t.userId),
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
    /** One open report per reporter and target: a retried report is the same one. */
    uniqueIndex('reports_open_reporter_target_uniq').on(t.reporterId, t.targetKind, t.targetId).where(sql`status = 'open'`),
    check('reports_reason_check', sql`char_length(${t.reason}) between 1 and 2000`),
  ],
);

export const reportsRelations = relations(reports, ({ one }) => ({
  reporter: one(users, { fields: [reports.reporterId], references: [users.id] }),
}));
