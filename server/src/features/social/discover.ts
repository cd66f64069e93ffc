import { blocks, type Db, eq, liveSessions } from '@podlive/db';
import { LIVE_CATEGORIES, type LiveSession } from '@podlive/shared/live';
import type { DiscoverPage } from '@podlive/shared/social';
import { toLiveSession, selectLiveRows, type LiveRow } from '../live/present';
import type { ViewerCounts } from '../../ws/viewer-counts';
import { trendScore, type ViewerTrend } from './trend';

export interface DiscoverDeps {
  db: Db;
  counts: ViewerCounts;
  trend: ViewerTrend;
  /** Lives are recorded (they have a live HLS URL). */
  recorded: boolean;
}

export const TRENDING_SIZE = 12;
export const PER_CATEGORY = 12;

/** Users who blocked `viewerId`: their lives are not shown to them. */
async function blockersOf(db: Db, viewerId: string | null): Promise<Set<string>> {
  if (viewerId === null) return new Set();
  const rows = await db.select({ id: blocks.blockerId }).from(blocks).where(eq(blocks.blockedId, viewerId));
  return new Set(rows.map((r) => r.id));
}

/**
 * The live sessions the viewer may see, with their viewers now and growth. Every live is
 * sampled for the trend, whoever asks (a viewer's filtered list must not drop others' history).
 */
async function liveNow(deps: DiscoverDeps, viewerId: string | null) {
  const [all, blockers] = await Promise.all([selectLiveRows(deps.db, eq(liveSessions.status, 'live')), blockersOf(deps.db, viewerId)]);
  const totals = await deps.counts.totals(all.map((r) => r.session.id));
  const growth = deps.trend.observe(totals);
  return { rows: all.filter((r) => !blockers.has(r.session.hostId)), totals, growth };
}

/**
 * GET /api/discover: the trending lives (score of viewers now and their growth, see trendScore;
 * ties: newest first), and every live by category (busiest categories first, most viewers first within).
 */
export async function discoverPage(deps: DiscoverDeps, viewerId: string | null): Promise<DiscoverPage> {
  const { rows, totals, growth } = await liveNow(deps, viewerId);
  const viewers = (row: LiveRow) => totals.get(row.session.id) ?? 0;
  const growthOf = (row: LiveRow) => growth.get(row.session.id) ?? 0;
  const newest = (a: LiveRow, b: LiveRow) => (b.session.startedAt?.getTime() ?? 0) - (a.session.startedAt?.getTime() ?? 0) || (a.session.id < b.session.id ? -1 : 1);
  const present = (row: LiveRow): LiveSession => toLiveSession(row, viewers(row), deps.recorded);

  const trending = [...rows]
    .sort((a, b) => trendScore(viewers(b), growthOf(b)) - trendScore(viewers(a), growthOf(a)) || newest(a, b))
    .slice(0, TRENDING_SIZE)
    .map((row) => ({ ...present(row), growth: growthOf(row) }));

  const byCategory = new Map<string, LiveRow[]>();
  for (const row of rows) byCategory.set(row.session.category, [...(byCategory.get(row.session.category) ?? []), row]);
  const total = (list: LiveRow[]) => list.reduce((sum, row) => sum + viewers(row), 0);
  const order = (c: string) => LIVE_CATEGORIES.indexOf(c as (typeof LIVE_CATEGORIES)[number]);
  const categories = [...byCategory.entries()]
    .sort(([a, x], [b, y]) => total(y) - total(x) || order(a) - order(b))
    .map(([category, list]) => ({ category, lives: list.sort((a, b) => viewers(b) - viewers(a) || newest(a, b)).slice(0, PER_CATEGORY).map(present) }));
  return { trending, categories };
}

/** Samples every live's viewers for the trend (on a timer, so growth is known before anyone asks). */
export async function sampleTrend(deps: Pick<DiscoverDeps, 'db' | 'counts' | 'trend'>): Promise<void> {
  const live = await deps.db.select({ id: liveSessions.id }).from(liveSessions).where(eq(liveSessions.status, 'live'));
  deps.trend.observe(await deps.counts.totals(live.map((r) => r.id)));
}
