import { type Db, eq, recordings, type SQL, users } from '@podlive/db';
import { type Recording, recordingKeys } from '@podlive/shared/recording';
import { mediaUrl } from '../../media/routes';
import type { RecordingsContext } from './context';
import { PRIVATE_LINK_TTL_SEC } from './private-hls';

/** The columns a Recording is made of: the row and its owner. */
export const recordingColumns = {
  recording: recordings,
  owner: { id: users.id, handle: users.handle, displayName: users.displayName, avatarKey: users.avatarKey },
};

export interface RecordingRow {
  recording: typeof recordings.$inferSelect;
  owner: { id: string; handle: string; displayName: string; avatarKey: string | null };
}

/** Rows matching `where`, with their owners. */
export function selectRecordingRows(db: Db, where: SQL | undefined) {
  return db.select(recordingColumns).from(recordings).innerJoin(users, eq(users.id, recordings.ownerId)).where(where);
}

export async function findRecordingRow(db: Db, id: string): Promise<RecordingRow | undefined> {
  const [row] = await selectRecordingRows(db, eq(recordings.id, id)).limit(1);
  return row;
}

/** Others see a recording once it is ready and public; its owner always does. */
export function visibleTo(row: RecordingRow, callerId: string | null): boolean {
  const { recording } = row;
  return recording.ownerId === callerId || (recording.status === 'ready' && recording.visibility === 'public');
}

/** The part of a storage key under the recording's root (`recordings/<session>/`). */
export const underRoot = (sessionId: string, key: string) => key.slice(recordingKeys(sessionId).root.length + 1);

/**
 * The API shape. A public recording's URLs are the media route's stable ones (relative URIs in its
 * playlists resolve through the same route); a private one's are signed links that expire (see
 * private-hls.ts for its playlists).
 */
export async function toRecording(ctx: Pick<RecordingsContext, 'storage' | 'links'>, { recording, owner }: RecordingRow): Promise<Recording> {
  const isPublic = recording.visibility === 'public';
  const fileUrl = async (key: string | null) => {
    if (key === null) return null;
    return isPublic ? mediaUrl(key) : ctx.storage.signedUrl(key, PRIVATE_LINK_TTL_SEC);
  };
  const master = recording.masterKey;
  const playlistUrl = master === null ? null : isPublic ? mediaUrl(master) : ctx.links.url(recording.id, underRoot(recording.sessionId, master), PRIVATE_LINK_TTL_SEC);
  return {
    id: recording.id,
    sessionId: recording.sessionId,
    title: recording.title,
    visibility: recording.visibility,
    status: recording.status,
    durationSec: recording.durationSec,
    sizeBytes: recording.sizeBytes,
    views: recording.views,
    createdAt: recording.createdAt.toISOString(),
    thumbnailUrl: await fileUrl(recording.thumbnailKey),
    playlistUrl,
    renditions: await Promise.all(
      recording.renditions.map(async (r) => ({
        name: r.name,
        width: r.width ?? 0,
        height: r.height ?? 0,
        bitrateKbps: r.bitrateKbps ?? 0,
        url: (await fileUrl(r.key)) ?? '',
      })),
    ),
    owner: { id: owner.id, handle: owner.handle, displayName: owner.displayName, avatarUrl: mediaUrl(owner.avatarKey) },
  };
}
