import { and, eq, liveSessions, notifications, recordings, sql, type RecordingRendition } from '@podlive/db';
import { type Recording, type RecordingFinishedBody, recordingKeys } from '@podlive/shared/recording';
import type { NotificationPayloads } from '@podlive/shared/social';
import { ApiError, type ErrorFields } from '../../errors';
import { isValidKey } from '@podlive/storage';
import { type NotificationRow, publishStored } from '../social/notifications';
import type { RecordingsContext } from './context';
import { findRecordingRow, toRecording } from './present';

/** The notification kind (and its payload) for a recording that became playable. */
export const RECORDING_READY = 'recording_ready';
export type RecordingReadyPayload = NotificationPayloads['recording_ready'] & Record<string, unknown>;

/**
 * Every key the finishing job names must be one of the session's recording objects: the public
 * media route serves nothing else for it, and deleting the recording removes exactly that tree.
 */
function checkKeys(sessionId: string, body: RecordingFinishedBody): void {
  const { root } = recordingKeys(sessionId);
  const fields: ErrorFields = {};
  const check = (path: string, key: string | null) => {
    if (key !== null && !(key.startsWith(`${root}/`) && isValidKey(key))) fields[path] = `Must be a storage key under ${root}/`;
  };
  check('masterKey', body.masterKey);
  check('thumbnailKey', body.thumbnailKey);
  body.renditions.forEach((r, i) => {
    check(`renditions.${i}.key`, r.key);
    check(`renditions.${i}.playlistKey`, r.playlistKey);
  });
  if (Object.keys(fields).length > 0) throw new ApiError('VALIDATION_FAILED', { fields });
}

/**
 * The live's thumbnail as the recording's, copied under the recording's root (deleting the
 * recording then removes its copy, never the live's). Null when it cannot be read: the recorder's
 * first frame stands in.
 */
async function copyCover(ctx: RecordingsContext, liveThumbnailKey: string, sessionId: string): Promise<string | null> {
  const key = recordingKeys(sessionId).cover;
  try {
    const source = await ctx.storage.get(liveThumbnailKey);
    if (source === null) return null;
    await ctx.storage.put(key, source.body, source.contentType);
    return key;
  } catch (err) {
    ctx.log.warn({ sessionId, err }, 'cannot copy the live’s thumbnail to its recording');
    return null;
  }
}

const renditionsOf = (body: RecordingFinishedBody): RecordingRendition[] =>
  body.renditions.map((r) => ({ name: r.name, key: r.key, playlistKey: r.playlistKey, width: r.width, height: r.height, bitrateKbps: r.bitrateKbps }));

/** jsonb keeps objects in its own key order: compare field by field. */
const sameRenditions = (a: RecordingRendition[], b: RecordingRendition[]) =>
  a.length === b.length &&
  a.every((x, i) => {
    const y = b[i];
    return y !== undefined && x.name === y.name && x.key === y.key && x.playlistKey === y.playlistKey && x.width === y.width && x.height === y.height && x.bitrateKbps === y.bitrateKbps;
  });

/**
 * PUT /internal/recordings/:sessionId: the finishing job's result. Creates the session's recording
 * if there is none (owner = host, title = the live's title now), writes the result, points the
 * live at it. On its first transition to ready (in the same transaction, so once however many
 * times the job reports) a `recording_ready` notification is stored; after the commit the event
 * goes to the host's /ws connections. The same PUT again changes nothing and tells nobody.
 * 404 LIVE_NOT_FOUND; 409 CONFLICT while the live has not ended.
 */
export async function recordingFinished(ctx: RecordingsContext, sessionId: string, body: RecordingFinishedBody): Promise<Recording> {
  checkKeys(sessionId, body);
  const [live] = await ctx.db
    .select({ hostId: liveSessions.hostId, title: liveSessions.title, status: liveSessions.status, thumbnailKey: liveSessions.thumbnailKey })
    .from(liveSessions)
    .where(eq(liveSessions.id, sessionId));
  if (live === undefined) throw new ApiError('LIVE_NOT_FOUND');
  if (live.status !== 'ended') throw new ApiError('CONFLICT', { message: 'The live has not ended yet' });
  if (body.status === 'failed') ctx.log.warn({ sessionId, reason: body.error }, 'the recording of a live failed');

  const wanted = {
    status: body.status,
    durationSec: body.durationSec,
    sizeBytes: body.sizeBytes,
    renditions: renditionsOf(body),
    masterKey: body.masterKey,
    thumbnailKey: body.status === 'ready' && live.thumbnailKey !== null ? ((await copyCover(ctx, live.thumbnailKey, sessionId)) ?? body.thumbnailKey) : body.thumbnailKey,
  };
  const { id, ready, notification } = await ctx.db.transaction(async (tx) => {
    await tx.insert(recordings).values({ sessionId, ownerId: live.hostId, title: live.title }).onConflictDoNothing({ target: recordings.sessionId });
    const [before] = await tx.select().from(recordings).where(eq(recordings.sessionId, sessionId)).for('update');
    if (before === undefined) throw new Error(`the recording of ${sessionId} vanished inside its transaction`);
    const same =
      before.status === wanted.status && before.durationSec === wanted.durationSec && before.sizeBytes === wanted.sizeBytes &&
      before.masterKey === wanted.masterKey && before.thumbnailKey === wanted.thumbnailKey && sameRenditions(before.renditions, wanted.renditions);
    if (!same) await tx.update(recordings).set(wanted).where(eq(recordings.id, before.id));
    await tx
      .update(liveSessions)
      .set({ recordingId: before.id })
      .where(and(eq(liveSessions.id, sessionId), sql`${liveSessions.recordingId} is distinct from ${before.id}`));
    const becameReady = before.status !== 'ready' && wanted.status === 'ready';
    let stored: NotificationRow | undefined;
    if (becameReady) {
      const payload: RecordingReadyPayload = { recordingId: before.id, sessionId, title: before.title };
      [stored] = await tx.insert(notifications).values({ userId: before.ownerId, kind: RECORDING_READY, payload }).returning();
    }
    return { id: before.id, ready: becameReady, notification: stored };
  });

  const row = await findRecordingRow(ctx.db, id);
  if (row === undefined) throw new ApiError('RECORDING_NOT_FOUND');
  const recording = await toRecording(ctx, row);
  if (ready) {
    ctx.log.info({ recordingId: id, sessionId }, 'recording ready');
    await ctx.events
      .toUser(row.owner.id, { type: 'recording_ready', recording })
      .catch((err: unknown) => ctx.log.error({ err, recordingId: id }, 'publishing recording_ready failed'));
    // The notifications menu's event, with the owner's unread count (never throws).
    if (notification !== undefined) await publishStored(ctx.db, ctx.events, ctx.log, [notification]);
  }
  return recording;
}
