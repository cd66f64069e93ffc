import { relations, sql } from 'drizzle-orm';
import { check, index, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { id, timestamptz } from './columns';
import { liveSessions } from './sessions';
import { users } from './users';

/**
 * `pending` until the invitee answers or `deadline` passes (`expired`); `accepted` while the guest
 * is on stage, `ended` once they leave or the host removes them.
 */
export const inviteStatus = pgEnum('invite_status', ['pending', 'accepted', 'rejected', 'expired', 'ended']);

/** A host's call to a viewer to join the stage (the phone-call modal). */
export const stageInvites = pgTable(
  'stage_invites',
  {
    id: id(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    hostId: uuid('host_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    inviteeId: uuid('invitee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: inviteStatus('status').notNull().default('pending'),
    invitedAt: timestamptz('invited_at').notNull().defaultNow(),
    /** When the invitee accepted or declined (status tells which). */
    answeredAt: timestamptz('answered_at'),
    /** When the guest left the stage or was removed. */
    leftAt: timestamptz('left_at'),
    /** The invite expires at this time if unanswered (30 s after `invitedAt`, set by the server). */
    deadline: timestamptz('deadline').notNull(),
    /** The SFU node the invitee was watching on when invited: the guest grant is for this node. */
    nodeId: text('node_id'),
  },
  (t) => [
    /** At most one pending invite per invitee and session: a second call while ringing is refused. */
    uniqueIndex('stage_invites_one_pending_key').on(t.sessionId, t.inviteeId).where(sql`status = 'pending'`),
    index('stage_invites_session_status_idx').on(t.sessionId, t.status),
    index('stage_invites_invitee_status_idx').on(t.inviteeId, t.status),
    /** The expiry sweeper: pending invites past their deadline. */
    index('stage_invites_pending_deadline_idx').on(t.deadline).where(sql`status = 'pending'`),
    check('stage_invites_not_self_check', sql`${t.hostId} <> ${t.inviteeId}`),
  ],
);

export const stageInvitesRelations = relations(stageInvites, ({ one }) => ({
  session: one(liveSessions, { fields: [stageInvites.sessionId], references: [liveSessions.id] }),
  host: one(users, { fields: [stageInvites.hostId], references: [users.id] }),
  invitee: one(users, { fields: [stageInvites.inviteeId], references: [users.id] }),
}));
