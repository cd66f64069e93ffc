import { and, eq, follows, isNull, isUniqueViolation, liveSessions } from '@podlive/db';
import type { CreateLiveBody, LiveSession, MediaJoin, StartLiveResponse } from '@podlive/shared/live';
import { MEDIA_TOKEN_TTL_SEC, signMediaToken } from '@podlive/shared/tokens';
import { iceServersFor } from '../../media/turn';
import { ApiError } from '../../errors';
import { isRecorded, type LiveContext, type RecordedLive } from './context';
import type { NodeRef } from './placement';
import { findLiveRow, toLiveSession, type LiveRow } from './present';
import { closeRoom } from './sfu-control';

const ONE_LIVE_PER_HOST = 'live_sessions_one_live_per_host_key';

export async function createLive(ctx: LiveContext, hostId: string, body: CreateLiveBody): Promise<LiveSession> {
  if (body.scheduledAt !== undefined && new Date(body.scheduledAt).getTime() <= Date.now()) {
    throw new ApiError('VALIDATION_FAILED', { fields: { scheduledAt: 'Choose a time in the future' } });
  }
  const [created] = await ctx.db
    .insert(liveSessions)
    .values({
      hostId,
      title: body.title,
      description: body.description ?? '',
      category: body.category,
      scheduledAt: body.scheduledAt === undefined ? null : new Date(body.scheduledAt),
    })
    .returning({ id: liveSessions.id });
  return toLiveSession(await hostedRow(ctx, created?.id ?? '', hostId), 0, isRecorded(ctx));
}

/** The session, when `callerId` hosts it: 404 LIVE_NOT_FOUND, 403 NOT_HOST otherwise. */
export async function hostedRow(ctx: LiveContext, sessionId: string, callerId: string): Promise<LiveRow> {
  const row = await findLiveRow(ctx.db, sessionId);
  if (row === undefined) throw new ApiError('LIVE_NOT_FOUND');
  if (row.session.hostId !== callerId) throw new ApiError('NOT_HOST');
  return row;
}

const recordedLive = ({ session }: LiveRow): RecordedLive => ({ sessionId: session.id, hostId: session.hostId, title: session.title });

async function hostJoin(ctx: LiveContext, node: NodeRef, row: LiveRow): Promise<MediaJoin> {
  const token = await signMediaToken(ctx.mediaKey, { sid: row.session.id, sub: row.host.id, role: 'host', node: node.id, name: row.host.displayName.slice(0, 100) });
  return { url: node.publicWsUrl, token, node: node.id, iceServers: iceServersFor(ctx.turn, row.host.id, MEDIA_TOKEN_TTL_SEC) };
}

/**
 * The live's origin node died (its media ended there): a new origin, stored on the session when no
 * concurrent start moved it first (null then: answer from the state that won). The session's
 * subscribers get live_started again, which is what brings the viewer pages back to the media.
 */
async function resumeOnNewOrigin(ctx: LiveContext, row: LiveRow): Promise<NodeRef | null> {
  const node = await ctx.placement.origin(row.session.id);
  const previous = row.session.originNodeId;
  const moved = await ctx.db
    .update(liveSessions)
    .set({ originNodeId: node.id })
    .where(and(eq(liveSessions.id, row.session.id), eq(liveSessions.status, 'live'), previous === null ? isNull(liveSessions.originNodeId) : eq(liveSessions.originNodeId, previous)))
    .returning({ id: liveSessions.id });
  if (moved.length === 0) return null;
  ctx.log.info({ sessionId: row.session.id, from: previous, to: node.id }, 'live resumed on a new origin node');
  ctx.recording?.originChosen(recordedLive(row), node);
  const session = toLiveSession(row, await ctx.counts.total(row.session.id), isRecorded(ctx));
  await ctx.events.toSession(session.id, { type: 'live_started', session }).catch((err: unknown) => ctx.log.error({ err, sessionId: session.id }, 'announcing the resume failed'));
  return node;
}

/**
 * scheduled → live on an origin node (the recorder is told to record from there, without waiting
 * for it); returns a host media token for it. Starting one's own live
 * again returns a fresh token for the same node (the studio reconnecting), without a new
 * live_started; when that node has died, the live resumes on a new origin (see resumeOnNewOrigin).
 * 409 LIVE_ENDED when ended, ALREADY_LIVE when the host is live in another session.
 */
export async function startLive(ctx: LiveContext, sessionId: string, callerId: string): Promise<StartLiveResponse> {
  const before = await hostedRow(ctx, sessionId, callerId);
  if (before.session.status === 'ended') throw new ApiError('LIVE_ENDED');
  if (before.session.status === 'live') {
    const node = (await ctx.placement.node(before.session.originNodeId ?? '')) ?? (await resumeOnNewOrigin(ctx, before));
    if (node === null) return startLive(ctx, sessionId, callerId);
    const row = node.id === before.session.originNodeId ? before : await hostedRow(ctx, sessionId, callerId);
    return { session: toLiveSession(row, await ctx.counts.total(sessionId), isRecorded(ctx)), join: await hostJoin(ctx, node, row) };
  }
  const node = await ctx.placement.origin(sessionId);
  let updated: { id: string }[];
  try {
    updated = await ctx.db
      .update(liveSessions)
      .set({ status: 'live', startedAt: new Date(), originNodeId: node.id })
      .where(and(eq(liveSessions.id, sessionId), eq(liveSessions.status, 'scheduled')))
      .returning({ id: liveSessions.id });
  } catch (err) {
    if (isUniqueViolation(err, ONE_LIVE_PER_HOST)) throw new ApiError('ALREADY_LIVE', { cause: err });
    throw err;
  }
  // Lost a race with another start or an end: answer from the state that won.
  if (updated.length === 0) return startLive(ctx, sessionId, callerId);
  // The recorder first, before anything else is awaited: it starts its FFmpegs while the host's
  // page gets this answer and connects (the recording begins at the host's first frame).
  ctx.recording?.originChosen(recordedLive(before), node);
  const row = await hostedRow(ctx, sessionId, callerId);
  const session = toLiveSession(row, 0, isRecorded(ctx));
  await announceStart(ctx, row, session);
  return { session, join: await hostJoin(ctx, node, row) };
}

/**
 * live_started to the session's subscribers (a waiting viewer page) and to every follower's
 * connections; then, in the background, the followers' stored notifications and Web Push.
 */
async function announceStart(ctx: LiveContext, row: LiveRow, session: LiveSession): Promise<void> {
  const event = { type: 'live_started', session } as const;
  try {
    const followers = (await ctx.db.select({ id: follows.followerId }).from(follows).where(eq(follows.followeeId, row.host.id))).map((f) => f.id);
    ctx.notices?.liveStarted(session, followers);
    await Promise.all([ctx.events.toSession(session.id, event), ctx.events.toUsers(followers, event)]);
  } catch (err) {
    ctx.log.error({ err, sessionId: session.id }, 'announcing live_started failed');
  }
}

/**
 * → ended (from scheduled too: a cancelled live). Closes the room on every node carrying it (the
 * origin would tell its edges, but an edge cut off from it must hear too; an unreachable node is
 * logged, the live still ends), tells the recording (stop; the recording shows as processing),
 * drops its viewer counts, publishes live_ended.
 * Ending an ended live: 409 LIVE_ENDED.
 */
export async function endLive(ctx: LiveContext, sessionId: string, callerId: string): Promise<LiveSession> {
  const before = await hostedRow(ctx, sessionId, callerId);
  if (before.session.status === 'ended') throw new ApiError('LIVE_ENDED');
  const [ended] = await ctx.db
    .update(liveSessions)
    .set({ status: 'ended', endedAt: new Date() })
    .where(and(eq(liveSessions.id, sessionId), eq(liveSessions.status, before.session.status)))
    .returning({ id: liveSessions.id });
  if (ended === undefined) return endLive(ctx, sessionId, callerId);
  const origin = before.session.originNodeId;
  if (origin !== null) await closeRooms(ctx, sessionId, origin);
  // Also for a cancelled live: a start that lost its race may have chosen an origin already.
  await ctx.placement.ended(sessionId).catch((err: unknown) => ctx.log.warn({ err, sessionId }, 'forgetting the live’s placement failed'));
  await ctx.onEnded?.(sessionId).catch((err: unknown) => ctx.log.error({ err, sessionId }, 'ending the stage failed'));
  // A cancelled live was never recorded.
  if (before.session.status === 'live') {
    await ctx.recording?.ended(recordedLive(before)).catch((err: unknown) => ctx.log.error({ err, sessionId }, 'ending the recording failed'));
  }
  await ctx.counts.ended(sessionId).catch((err: unknown) => ctx.log.warn({ err, sessionId }, 'clearing viewer counts failed'));
  await ctx.events.toSession(sessionId, { type: 'live_ended', sessionId }).catch((err: unknown) => ctx.log.error({ err, sessionId }, 'publishing live_ended failed'));
  return toLiveSession(await hostedRow(ctx, sessionId, callerId), 0, isRecorded(ctx));
}

/** Closes the live's room on each of its nodes, in parallel; failures are logged, never thrown. */
async function closeRooms(ctx: LiveContext, sessionId: string, originNodeId: string): Promise<void> {
  let nodes: NodeRef[] = [];
  try {
    nodes = await ctx.placement.nodesOf(sessionId, originNodeId);
  } catch (err) {
    ctx.log.warn({ err, sessionId }, 'listing the live’s media nodes failed; the live ends anyway');
  }
  await Promise.all(
    nodes.map((node) =>
      closeRoom(node, sessionId, ctx.mediaKey).catch((err: unknown) =>
        ctx.log.warn({ err, sessionId, nodeId: node.id }, 'closing the room on a media node failed; the live ends anyway'),
      ),
    ),
  );
}
