import { blocks, eq, or, sql, users } from '@podlive/db';
import type { StageSuggestion } from '@podlive/shared/stage';
import { searchUsers } from '../users/search';
import type { StageContext } from './context';
import { hostedLiveRow } from './invite';
import { toPerson } from './present';
import { sessionPeers } from './watching';

export const MAX_SUGGESTIONS = 8;

const startsWith = (text: string, prefix: string) => text.toLowerCase().startsWith(prefix);

/**
 * The host's Invite field: signed-in people watching now whose handle or display name starts with
 * `q` (case-insensitive), then everyone else from the user search; never the host, a guest, or
 * anyone the host blocked or who blocked the host (an invite to them would be refused).
 */
export async function stageSuggestions(ctx: StageContext, hostId: string, sessionId: string, q: string): Promise<StageSuggestion[]> {
  const live = await hostedLiveRow(ctx, sessionId, hostId);
  const prefix = q.replace(/^@/, '').toLowerCase();
  const [peers, guests, blocked] = await Promise.all([
    sessionPeers(ctx, sessionId, live.session.originNodeId ?? '').then(
      (found) => found.peers,
      (err: unknown) => {
        ctx.log.warn({ err, sessionId }, 'listing the room’s peers failed; suggesting without them');
        return [];
      },
    ),
    ctx.guests.list(sessionId),
    blockedEitherWay(ctx, hostId),
  ]);
  const excluded = new Set([hostId, ...guests.map((entry) => entry.guest.id), ...blocked]);
  const watcherIds = [...new Set(peers.filter((p) => p.role === 'viewer' && !p.userId.startsWith('anon:') && !excluded.has(p.userId)).map((p) => p.userId))];
  const watchers =
    watcherIds.length === 0
      ? []
      : await ctx.db
          .select({ id: users.id, handle: users.handle, displayName: users.displayName, avatarKey: users.avatarKey })
          .from(users)
          .where(sql`${users.id} in (${sql.join(watcherIds.map((id) => sql`${id}`), sql`, `)})`);
  const out: StageSuggestion[] = watchers
    .filter((user) => startsWith(user.handle, prefix) || startsWith(user.displayName, prefix))
    .sort((a, b) => a.handle.localeCompare(b.handle))
    .slice(0, MAX_SUGGESTIONS)
    .map((user) => ({ ...toPerson(user), watching: true }));
  if (out.length >= MAX_SUGGESTIONS) return out;
  for (const user of out) excluded.add(user.id);
  const found = await searchUsers(ctx.db, { q: prefix, page: 1, limit: MAX_SUGGESTIONS + excluded.size }, null);
  for (const user of found.items) {
    if (out.length >= MAX_SUGGESTIONS) break;
    if (excluded.has(user.id)) continue;
    out.push({ id: user.id, handle: user.handle, displayName: user.displayName, avatarUrl: user.avatarUrl, watching: false });
  }
  return out;
}

/** The people the host blocked and those who blocked the host. */
async function blockedEitherWay(ctx: StageContext, hostId: string): Promise<string[]> {
  const rows = await ctx.db
    .select({ blockerId: blocks.blockerId, blockedId: blocks.blockedId })
    .from(blocks)
    .where(or(eq(blocks.blockerId, hostId), eq(blocks.blockedId, hostId)));
  return rows.map((row) => (row.blockerId === hostId ? row.blockedId : row.blockerId));
}
