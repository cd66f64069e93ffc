import { type Db, eq, liveSessions, type SQL, users } from '@podlive/db';
import type { LiveCategory, LiveSession } from '@podlive/shared/live';
import { recordingKeys } from '@podlive/shared/recording';
import { mediaUrl } from '../../media/routes';

/** The columns a LiveSession is made of: the row and its host. */
export const liveColumns = {
  session: liveSessions,
  host: { id: users.id, handle: users.handle, displayName: users.displayName, avatarKey: users.avatarKey },
};

export interface LiveRow {
  session: typeof liveSessions.$inferSelect;
  host: { id: string; handle: string; displayName: string; avatarKey: string | null };
}

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/**
 * `viewers` is the current count for a live session, 0 otherwise. `recorded`: lives are recorded,
 * so a live session has a live HLS playlist (public, through the media route).
 */
export function toLiveSession({ session, host }: LiveRow, viewers: number, recorded: boolean): LiveSession {
  return {
    id: session.id,
    title: session.title,
    description: session.description,
    category: session.category as LiveCategory,
    status: session.status,
    scheduledAt: iso(session.scheduledAt),
    startedAt: iso(session.startedAt),
    endedAt: iso(session.endedAt),
    thumbnailUrl: mediaUrl(session.thumbnailKey),
    hlsUrl: recorded && session.status === 'live' ? mediaUrl(recordingKeys(session.id).liveMaster) : null,
    viewers: session.status === 'live' ? viewers : 0,
    peakViewers: session.peakViewers,
    host: { id: host.id, handle: host.handle, displayName: host.displayName, avatarUrl: mediaUrl(host.avatarKey) },
  };
}

/** Rows matching `where`, with their hosts. */
export function selectLiveRows(db: Db, where: SQL | undefined) {
  return db.select(liveColumns).from(liveSessions).innerJoin(users, eq(users.id, liveSessions.hostId)).where(where);
}

export async function findLiveRow(db: Db, id: string): Promise<LiveRow | undefined> {
  const [row] = await selectLiveRows(db, eq(liveSessions.id, id)).limit(1);
  return row;
}
