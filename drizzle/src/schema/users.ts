import { relations, sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { refreshTokenFamilies } from './auth';
import { createdAt, id, lower, timestamptz, updatedAt } from './columns';
import { liveSessions, recordings } from './sessions';
import { follows, notifications } from './social';

export const users = pgTable(
  'users',
  {
    id: id(),
    /** The @handle, stored as typed (case kept for display); unique whatever the case (index below). */
    handle: text('handle').notNull(),
    /**
     * The handle's look-alike key (handleSkeleton in shared/src/handles.ts): unique, so no handle can
     * imitate another (`podIive`, `p0dlive`). Null only for accounts older than the rule whose
     * handle already looked like an earlier one's; their next handle change sets it.
     */
    handleSkeleton: text('handle_skeleton'),
    /** Stored as typed; unique whatever the case (index below). */
    email: text('email').notNull(),
    passwordHash: text('password_hash').notNull(),
    displayName: text('display_name').notNull(),
    /** Storage key of the avatar image, not a URL: URLs are presigned when read. */
    avatarKey: text('avatar_key'),
    bio: text('bio').notNull().default(''),
    /** Denormalised from `follows` (kept in the same transaction) so profiles don't count rows. */
    followerCount: integer('follower_count').notNull().default(0),
    followingCount: integer('following_count').notNull().default(0),
    /** The verified badge shown next to the handle (given by staff), not the email check. */
    verified: boolean('verified').notNull().default(false),
    emailVerified: boolean('email_verified').notNull().default(false),
    /** Staff: may list reports (set by an operator in the database, never through the API). */
    isAdmin: boolean('is_admin').notNull().default(false),
    /** Last handle change, so the server can limit how often a handle changes. */
    handleChangedAt: timestamptz('handle_changed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    lastSeenAt: timestamptz('last_seen_at'),
  },
  (t) => [
    uniqueIndex('users_handle_lower_key').on(lower(t.handle)),
    uniqueIndex('users_handle_skeleton_key').on(t.handleSkeleton),
    uniqueIndex('users_email_lower_key').on(lower(t.email)),
    check('users_follower_count_check', sql`${t.followerCount} >= 0`),
    check('users_following_count_check', sql`${t.followingCount} >= 0`),
  ],
);

export const usersRelations = relations(users, ({ many }) => ({
  liveSessions: many(liveSessions),
  recordings: many(recordings),
  /** Rows where this user is followed. */
  followers: many(follows, { relationName: 'followee' }),
  /** Rows where this user follows someone. */
  following: many(follows, { relationName: 'follower' }),
  notifications: many(notifications),
  refreshTokenFamilies: many(refreshTokenFamilies),
}));
