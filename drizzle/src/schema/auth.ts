import { relations, sql } from 'drizzle-orm';
import { boolean, check, index, integer, pgEnum, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, id, lower, timestamptz } from './columns';
import { users } from './users';

/**
 * One login (device) of a user. Refresh tokens rotate: each use issues a new token and bumps
 * `generation`; only the newest token's hash is kept. A token that is valid for the family but
 * not the current one means an old token was replayed (stolen): the server revokes the family.
 */
export const refreshTokenFamilies = pgTable(
  'refresh_token_families',
  {
    id: id(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** Hash of the only token of this family that may still be used (never the token itself). */
    currentTokenHash: text('current_token_hash').notNull(),
    generation: integer('generation').notNull().default(0),
    revokedAt: timestamptz('revoked_at'),
    /** "Keep me signed in": the family lives for `expiresAt` instead of the browser session. */
    rememberMe: boolean('remember_me').notNull().default(false),
    expiresAt: timestamptz('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('refresh_token_families_user_idx').on(t.userId),
    uniqueIndex('refresh_token_families_current_token_hash_key').on(t.currentTokenHash),
    check('refresh_token_families_generation_check', sql`${t.generation} >= 0`),
  ],
);

export const refreshTokenFamiliesRelations = relations(refreshTokenFamilies, ({ one, many }) => ({
  user: one(users, { fields: [refreshTokenFamilies.userId], references: [users.id] }),
  retiredTokens: many(retiredRefreshTokens),
}));

/**
 * Hashes of refresh tokens already exchanged. A family keeps only its current hash, so without
 * these a replayed (stolen) old token could not be traced to its family to revoke it.
 * Rows go with their family.
 */
export const retiredRefreshTokens = pgTable(
  'retired_refresh_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    familyId: uuid('family_id')
      .notNull()
      .references(() => refreshTokenFamilies.id, { onDelete: 'cascade' }),
    retiredAt: timestamptz('retired_at').notNull().defaultNow(),
  },
  (t) => [index('retired_refresh_tokens_family_idx').on(t.familyId)],
);

export const retiredRefreshTokensRelations = relations(retiredRefreshTokens, ({ one }) => ({
  family: one(refreshTokenFamilies, { fields: [retiredRefreshTokens.familyId], references: [refreshTokenFamilies.id] }),
}));

export const otpPurpose = pgEnum('otp_purpose', ['verify_email', 'reset_password']);

/** Codes mailed to a user (email check, password reset). Only a hash is stored. */
export const oneTimeCodes = pgTable(
  'one_time_codes',
  {
    id: id(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** The address the code was sent to: it may differ from the user's (email change) or have no user yet. */
    email: text('email'),
    purpose: otpPurpose('purpose').notNull(),
    codeHash: text('code_hash').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
    /** Wrong guesses so far: the server stops accepting the code after a few. */
    attempts: integer('attempts').notNull().default(0),
    consumedAt: timestamptz('consumed_at'),
    createdAt: createdAt(),
  },
  (t) => [
    index('one_time_codes_user_purpose_idx').on(t.userId, t.purpose),
    index('one_time_codes_email_purpose_idx').on(lower(t.email), t.purpose),
    check('one_time_codes_target_check', sql`${t.userId} is not null or ${t.email} is not null`),
    check('one_time_codes_attempts_check', sql`${t.attempts} >= 0`),
  ],
);

export const oneTimeCodesRelations = relations(oneTimeCodes, ({ one }) => ({
  user: one(users, { fields: [oneTimeCodes.userId], references: [users.id] }),
}));
