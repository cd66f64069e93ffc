import { eq, recordings } from '@podlive/db';
import { type Recording, type RecordingPatchBody, recordingKeys } from '@podlive/shared/recording';
import { ApiError } from '../../errors';
import { isValidKey } from '@podlive/storage';
import type { RecordingsContext } from './context';
import { findRecordingRow, type RecordingRow, toRecording } from './present';
import { visibleRow } from './queries';

/**
 * A recording still processing this long after it was created (when its live ended) may be
 * deleted anyway: its finishing job is taken for lost.
 */
export const PROCESSING_GRACE_MS = 60 * 60 * 1000;

/** The recording when `callerId` owns it: 404 when they may not even see it, 403 NOT_RECORDING_OWNER when they may. */
async function ownedRow(ctx: RecordingsContext, id: string, callerId: string): Promise<RecordingRow> {
  const row = await visibleRow(ctx, id, callerId);
  if (row.recording.ownerId !== callerId) throw new ApiError('NOT_RECORDING_OWNER');
  return row;
}

/** PATCH /api/recordings/:id: the owner renames it or makes it private or public. */
export async function updateRecording(ctx: RecordingsContext, id: string, callerId: string, body: RecordingPatchBody): Promise<Recording> {
  await ownedRow(ctx, id, callerId);
  await ctx.db
    .update(recordings)
    .set({ ...(body.title === undefined ? {} : { title: body.title }), ...(body.visibility === undefined ? {} : { visibility: body.visibility }) })
    .where(eq(recordings.id, id));
  const row = await findRecordingRow(ctx.db, id);
  if (row === undefined) throw new ApiError('RECORDING_NOT_FOUND');
  return toRecording(ctx, row);
}

/**
 * DELETE /api/recordings/:id: every object under the recording's root (the live's chunks and
 * playlists, the VOD, the thumbnail; and any key of the row outside it, which the finishing job is
 * not allowed to write), then the row. Objects first: when storage fails, the row stays (502) and
 * the owner can try again. While the finishing job may still write (processing, younger than
 * PROCESSING_GRACE_MS), 409 RECORDING_PROCESSING: a delete now would be undone by its result.
 */
export async function deleteRecording(ctx: RecordingsContext, id: string, callerId: string): Promise<void> {
  const { recording } = await ownedRow(ctx, id, callerId);
  if (recording.status === 'processing' && Date.now() - recording.createdAt.getTime() < PROCESSING_GRACE_MS) {
    throw new ApiError('RECORDING_PROCESSING');
  }
  const { root } = recordingKeys(recording.sessionId);
  const strays = [recording.masterKey, recording.thumbnailKey, ...recording.renditions.flatMap((r) => [r.key, r.playlistKey ?? null])].filter(
    (key): key is string => key !== null && !key.startsWith(`${root}/`) && isValidKey(key),
  );
  try {
    const removed = await ctx.storage.deletePrefix(`${root}/`);
    await Promise.all(strays.map((key) => ctx.storage.delete(key)));
    ctx.log.info({ recordingId: id, sessionId: recording.sessionId, objects: removed + strays.length }, 'recording deleted');
  } catch (err) {
    throw new ApiError('BAD_GATEWAY', { message: 'The recording’s files could not all be deleted; try again', cause: err });
  }
  await ctx.db.delete(recordings).where(eq(recordings.id, id));
}
