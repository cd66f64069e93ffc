import { eq, recordings, sql } from '@podlive/db';
import type { RecordingViewResult } from '@podlive/shared/recording';
import type { RecordingsContext } from './context';
import { visibleRow } from './queries';

/**
 * A play of a recording the caller may see. It adds to the count unless the owner plays it, or
 * the recording is not ready, or `firstInWindow` says this viewer was already counted (the
 * route's allowance: once an hour per viewer and recording).
 */
export async function countView(ctx: RecordingsContext, id: string, callerId: string | null, firstInWindow: () => Promise<boolean>): Promise<RecordingViewResult> {
  const { recording } = await visibleRow(ctx, id, callerId);
  if (recording.ownerId === callerId || recording.status !== 'ready' || !(await firstInWindow())) {
    return { views: recording.views, counted: false };
  }
  const [row] = await ctx.db
    .update(recordings)
    .set({ views: sql`${recordings.views} + 1` })
    .where(eq(recordings.id, id))
    .returning({ views: recordings.views });
  return { views: row?.views ?? recording.views, counted: row !== undefined };
}
