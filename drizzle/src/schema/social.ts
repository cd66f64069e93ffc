import { relations, sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, timestamptz } from './columns';
import { users } from './users';

/** `follower` follows `followee`. The users' counters are updated in the same transaction. */
export const follows = pgTable(
  'follows',
  {
    followerId: uuid('follower_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    followeeId: uuid('followee_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.followerId, t.followeeId] }),
    /** A user's followers, newest first (the primary key serves "who do I follow"). */
    index('follows_followee_created_idx').on(t.followeeId, t.createdAt.desc()),
    check('follows_not_self_check', sql`${t.followerId} <> ${t.followeeId}`),
  ],
);

export const followsRelations = relations(follows, ({ one }) => ({
  follower: one(users, { fields: [follows.followerId], references: [users.id], relationName: 'follower' }),
  followee: one(users, { fields: [follows.followeeId], references: [users.id], relationName: 'followee' }),
}));

/** `blocker` blocked `blocked`: no chat, invites or follows between them. */
export const blocks = pgTable(
  'blocks',
  {
    blockerId: uuid('blocker_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    blockedId: uuid('blocked_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.blockerId, t.blockedId] }),
    /** "Who blocked me" checks. */
    index('blocks_blocked_idx').on(t.blockedId),
    check('blocks_not_self_check', sql`${t.blockerId} <> ${t.blockedId}`),
  ],
);

export const notifications = pgTable(
  'notifications',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /**
     * Kinds and their payloads are defined by the protocol in @podlive/shared; text rather than an
     * enum so a new kind needs no migration.
     */
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    readAt: timestamptz('read_at'),
    createdAt: createdAt(),
  },
  (t) => [
    /** A user's notifications, newest first. */
    index('notifications_user_created_idx').on(t.userId, t.createdAt.desc()),
    /** The unread badge count. */
    index('notifications_user_unread_idx').on(t.userId).where(sql`read_at is null`),
  ],
);

export const notificationsRelations = relations(notifications, ({ one }) => ({
  user: one(users, { fields: [notifications.userId], references: [users.id] }),
}));

/** A browser's Web Push subscription (PushSubscription.toJSON()), for live_started when the user allowed it. */
export const pushSubscriptions = pgTable(
  'push_subscriptions',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    endpoint: text('endpoint').notNull(),
    p256dh: text('p256dh').notNull(),
    auth: text('auth').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    /** One row per browser: subscribing again (or as another user) replaces it. */
    uniqueIndex('push_subscriptions_endpoint_uniq').on(t.endpoint),
    index('push_subscriptions_user_idx').on(t.userId),
  ],
);
