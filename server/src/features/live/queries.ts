import { and, asc, eq, gt, liveSessions, queryRows, sql, users } from '@podlive/db';
import type { Page } from '@podlive/shared/accounts';
import type { HlsJoin, LiveSession, LiveStats, ViewerJoin } from '@podlive/shared/live';
import { recordingKeys } from '@podlive/shared/recording';
import { MEDIA_TOKEN_TTL_SEC, signMediaToken } from '@podlive/shared/tokens';
import { iceServersFor } from '../../media/turn';
import { randomBytes } from 'node:crypto';
import { ApiError } from '../../errors';
import { mediaUrl } from '../../media/routes';
import { isRecorded, type LiveContext } from './context';
import type { ViewerPlacementOptions } from './placement';
import { findLiveRow, selectLiveRows, toLiveSession, type LiveRow } from './present';

export interface PageParams {
  page: number;
  limit: number;
}

async function existingRow(ctx: LiveContext, sessionId: string): Promise<LiveRow> {
  const row = await findLiveRow(ctx.db, sessionId);
  if (row === undefined) throw new ApiError('LIVE_NOT_FOUND');
  return row;
}

export async function getLive(ctx: LiveContext, sessionId: string): Promise<LiveSession> {
  const row = await existingRow(ctx, sessionId);
  return toLiveSession(row, row.session.status === 'live' ? await ctx.counts.total(sessionId) : 0, isRecorded(ctx));
}

export async function liveStats(ctx: LiveContext, sessionId: string): Promise<LiveStats> {
  const { session } = await existingRow(ctx, sessionId);
  const viewers = session.status === 'live' ? await ctx.counts.total(sessionId) : 0;
  const until = session.endedAt?.getTime() ?? Date.now();
  return {
    viewers,
    peakViewers: Math.max(session.peakViewers, viewers),
    durationSec: session.startedAt === null ? 0 : Math.max(0, Math.floor((until - session.startedAt.getTime()) / 1000)),
    startedAt: session.startedAt?.toISOString() ?? null,
    status: session.status,
  };
}

/**
 * Live sessions, most current viewers first (ties: newest first). The counts live outside the
 * database, so every live row is read and sorted here: fine for hundreds of concurrent lives; a
 * Redis sorted set of counts is the step after that.
 */
export async function activeLives(ctx: LiveContext, { page, limit }: PageParams): Promise<Page<LiveSession>> {
  const rows = await selectLiveRows(ctx.db, eq(liveSessions.status, 'live'));
  const totals = await ctx.counts.totals(rows.map((r) => r.session.id));
  const viewers = (row: LiveRow) => totals.get(row.session.id) ?? 0;
  rows.sort((a, b) => viewers(b) - viewers(a) || (b.session.startedAt?.getTime() ?? 0) - (a.session.startedAt?.getTime() ?? 0));
  const slice = rows.slice((page - 1) * limit, page * limit);
  return { items: slice.map((row) => toLiveSession(row, viewers(row), isRecorded(ctx))), page, limit, hasMore: rows.length > page * limit };
}

/** Scheduled sessions whose time is still ahead, soonest first. */
export async function scheduledLives(ctx: LiveContext, { page, limit }: PageParams): Promise<Page<LiveSession>> {
  const rows = await selectLiveRows(ctx.db, and(eq(liveSessions.status, 'scheduled'), gt(liveSessions.scheduledAt, sql`now()`)))
    .orderBy(asc(liveSessions.scheduledAt), asc(liveSessions.id))
    .limit(limit + 1)
    .offset((page - 1) * limit);
  return { items: rows.slice(0, limit).map((row) => toLiveSession(row, 0, isRecorded(ctx))), page, limit, hasMore: rows.length > limit };
}

/**
 * How long a page on HLS waits (jittered by the page) before asking for WebRTC again: soon past a
 * live's own cap (a slot frees as soon as one of few viewers leaves), less often when the whole
 * fleet is full (tens of thousands of HLS viewers asking every 5 s would be thousands of requests
 * a second, each running the placement for nothing).
 */
export const HLS_RETRY_AFTER_SEC: Record<HlsJoin['reason'], number> = { cap: 5, capacity: 15 };

function hlsJoin(sessionId: string, reason: HlsJoin['reason']): HlsJoin {
  const keys = recordingKeys(sessionId);
  return { mode: 'hls', playlist: mediaUrl(keys.llMaster), audioPlaylist: mediaUrl(keys.llPlaylist('audio')), reason, retryAfterSec: HLS_RETRY_AFTER_SEC[reason] };
}

/** Whether the user has a stage invite ringing for the live (see viewerTokenQuery's `stage`). */
async function invitedToStage(ctx: LiveContext, sessionId: string, userId: string): Promise<boolean> {
  const rows = await queryRows<{ id: string }>(ctx.db, sql`select id from stage_invites where session_id = ${sessionId} and invitee_id = ${userId} and status = 'pending' limit 1`);
  return rows.length > 0;
}

export interface ViewerJoinOptions extends ViewerPlacementOptions {
  /** The caller answers a stage invite from the live's HLS: the live's WebRTC cap does not apply. */
  stage?: boolean;
}

/**
 * A viewer media token for the node placement picks for this viewer (never `exclude`, the node the
 * page just lost): sub is the user id, or `anon:<random>` signed out; name their display name.
 * When the live has its HLS (it is recorded), a viewer past the live's WebRTC cap (the operator's
 * for this live, else LIVE_WEBRTC_CAP) or for whom no node has room gets the HLS instead; a
 * signed-in one is then known to watch it there (a host may call them onto the stage), and one
 * answering a stage invite is not held by the cap.
 * 409 LIVE_NOT_STARTED / LIVE_ENDED.
 */
export async function viewerJoin(ctx: LiveContext, sessionId: string, callerId: string | null, options: ViewerJoinOptions = {}): Promise<ViewerJoin> {
  const { session } = await existingRow(ctx, sessionId);
  if (session.status === 'scheduled') throw new ApiError('LIVE_NOT_STARTED');
  if (session.status === 'ended') throw new ApiError('LIVE_ENDED');
  const origin = session.originNodeId ?? '';
  const hls = isRecorded(ctx);
  const toHls = async (reason: HlsJoin['reason']) => {
    if (callerId !== null) {
      await ctx.placement.watchingHls(sessionId, callerId).catch((err: unknown) => ctx.log.warn({ err, sessionId }, 'recording an HLS viewer failed'));
    }
    return hlsJoin(sessionId, reason);
  };
  if (hls) {
    const cap = (await ctx.placement.webrtcCap(sessionId)) ?? ctx.webrtcCap ?? null;
    const capped = cap !== null && (await ctx.placement.webrtcViewers(sessionId, origin)) >= cap;
    if (capped && !(options.stage === true && callerId !== null && (await invitedToStage(ctx, sessionId, callerId)))) return toHls('cap');
  }
  let node;
  try {
    node = await ctx.placement.forViewer(sessionId, origin, options.exclude === undefined ? {} : { exclude: options.exclude });
  } catch (err) {
    if (hls && err instanceof ApiError && err.code === 'SERVICE_UNAVAILABLE') return toHls('capacity');
    throw err;
  }
  let sub = `anon:${randomBytes(12).toString('base64url')}`;
  let name: string | undefined;
  if (callerId !== null) {
    const [user] = await ctx.db.select({ displayName: users.displayName }).from(users).where(eq(users.id, callerId));
    if (user === undefined) throw new ApiError('UNAUTHENTICATED');
    sub = callerId;
    name = user.displayName.slice(0, 100);
  }
  const token = await signMediaToken(ctx.mediaKey, { sid: sessionId, sub, role: 'viewer', node: node.id, ...(name === undefined ? {} : { name }) });
  return { mode: 'webrtc', url: node.publicWsUrl, token, node: node.id, iceServers: iceServersFor(ctx.turn, sub, MEDIA_TOKEN_TTL_SEC) };
}
