import { and, blocks, type Db, desc, eq, follows, liveSessions, sql, users } from '@podlive/db';
import type { Page, PublicUser } from '@podlive/shared/accounts';
import { normalizeHandle } from '@podlive/shared/handles';
import { toPublicUser } from './present';

export interface SearchParams {
  q: string;
  page: number;
  limit: number;
}

/** `text` with LIKE's wildcards escaped (handles are full of `_`). */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Fuzzy search on handle and display name with pg_trgm (GIN trigram indexes from migration
 * 0002): a row matches when either is similar (`%`), contains a similar word (`<%`), or starts
 * with the query. Rank: the best of similarity and word similarity over both fields, plus a boost
 * for an exact handle (+2), a handle prefix (+1) or a display-name prefix (+0.5); then followers.
 * Users who blocked the viewer are left out.
 * The query is only ever a bound parameter.
 */
export async function searchUsers(db: Db, params: SearchParams, viewerId: string | null): Promise<Page<PublicUser>> {
  const q = normalizeHandle(params.q).toLowerCase();
  const prefix = `${escapeLike(q)}%`;
  const handle = sql`lower(${users.handle})`;
  const name = sql`lower(${users.displayName})`;
  const score = sql<number>`greatest(similarity(${handle}, ${q}), word_similarity(${q}, ${handle}), similarity(${name}, ${q}), word_similarity(${q}, ${name}))
    + case when ${handle} = ${q} then 2 when ${handle} like ${prefix} then 1 when ${name} like ${prefix} then 0.5 else 0 end`;
  const matches = sql`(${handle} % ${q} or ${q} <% ${handle} or ${name} % ${q} or ${q} <% ${name} or ${handle} like ${prefix} or ${name} like ${prefix})`;
  const isLive = sql<boolean>`exists (select 1 from ${liveSessions} where ${liveSessions.hostId} = ${users.id} and ${liveSessions.status} = 'live')`;
  const isFollowing =
    viewerId === null
      ? sql<null>`null`
      : sql<boolean>`exists (select 1 from ${follows} where ${and(eq(follows.followerId, viewerId), eq(follows.followeeId, users.id))})`;
  // Someone who blocked the viewer doesn't show up in their search.
  const visible = viewerId === null ? sql`true` : sql`not exists (select 1 from ${blocks} where ${and(eq(blocks.blockerId, users.id), eq(blocks.blockedId, viewerId))})`;
  const rows = await db
    .select({ user: users, isLive, isFollowing })
    .from(users)
    .where(and(matches, visible))
    .orderBy(desc(score), desc(users.followerCount), users.id)
    .limit(params.limit + 1)
    .offset((params.page - 1) * params.limit);
  return {
    items: rows.slice(0, params.limit).map(toPublicUser),
    page: params.page,
    limit: params.limit,
    hasMore: rows.length > params.limit,
  };
}
