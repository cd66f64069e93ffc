import { blocks, type Db, liveSessions, queryRows, sql, users } from '@podlive/db';
import type { SearchSuggestions } from '@podlive/shared/social';
import { z } from 'zod';
import { avatarUrl } from '../users/present';

/** What someone types into the search box: trimmed, 1–100 characters, no control characters. */
export const suggestQuery = z.strictObject({
  q: z
    .string()
    .max(400, 'At most 100 characters')
    .transform((s) => s.normalize('NFC').trim())
    .pipe(
      z
        .string()
        .min(1, 'Type something to search for')
        .max(100, 'At most 100 characters')
        .refine((s) => !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(s), 'Contains characters that are not allowed'),
    ),
});

export const SUGGESTED_USERS = 5;
export const SUGGESTED_LIVES = 5;

/** `text` with LIKE's wildcards escaped. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * GET /api/search/suggest: users whose handle or display name starts with the query (a leading @
 * is ignored; the trigram indexes of migration 0002 serve these prefix LIKEs), best first: exact
 * handle, handle prefix, then followers; and lives on air whose title contains it. Users who
 * blocked the caller, and their lives, are left out. The query is only ever a bound parameter.
 */
export async function suggestions(db: Db, q: string, viewerId: string | null): Promise<SearchSuggestions> {
  const term = q.toLowerCase();
  const handleTerm = term.replace(/^@/, '');
  const handlePrefix = `${escapeLike(handleTerm)}%`;
  const namePrefix = `${escapeLike(term)}%`;
  const contains = `%${escapeLike(term)}%`;
  const notBlockedBy = (userColumn: unknown) =>
    viewerId === null ? sql`true` : sql`not exists (select 1 from ${blocks} b where b.blocker_id = ${userColumn} and b.blocked_id = ${viewerId})`;

  const [people, lives] = await Promise.all([
    queryRows<{ id: string; handle: string; display_name: string; avatar_key: string | null }>(
      db,
      sql`select u.id, u.handle, u.display_name, u.avatar_key from ${users} u
          where (lower(u.handle) like ${handlePrefix} or lower(u.display_name) like ${namePrefix}) and ${notBlockedBy(sql`u.id`)}
          order by (lower(u.handle) = ${handleTerm}) desc, (lower(u.handle) like ${handlePrefix}) desc, u.follower_count desc, u.id
          limit ${SUGGESTED_USERS}`,
    ),
    queryRows<{ id: string; title: string; handle: string }>(
      db,
      sql`select s.id, s.title, u.handle from ${liveSessions} s join ${users} u on u.id = s.host_id
          where s.status = 'live' and lower(s.title) like ${contains} and ${notBlockedBy(sql`s.host_id`)}
          order by (lower(s.title) like ${namePrefix}) desc, s.started_at desc, s.id
          limit ${SUGGESTED_LIVES}`,
    ),
  ]);
  return {
    users: people.map((u) => ({ id: u.id, handle: u.handle, displayName: u.display_name, avatarUrl: avatarUrl(u.avatar_key) })),
    lives: lives.map((l) => ({ id: l.id, title: l.title, hostHandle: l.handle })),
  };
}
