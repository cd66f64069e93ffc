import { and, eq, isNull, liveSessions, recordings } from '@podlive/db';
import type { LiveRecording, RecordedLive } from '../live/context';
import type { NodeRef } from '../live/placement';
import type { RecordingsContext } from './context';

/**
 * The recording side of the live lifecycle (features/live calls it): the recorder is told when a
 * live goes live on an origin or moves to another, and when it ends; at the end the recording
 * appears at once on the host's profile as processing, until the finishing job reports.
 */
export function liveRecording(ctx: RecordingsContext): LiveRecording {
  return {
    enabled: ctx.recorder.enabled,
    originChosen(live: RecordedLive, node: NodeRef) {
      ctx.recorder.start(live, node);
    },
    async ended(live: RecordedLive) {
      if (!ctx.recorder.enabled) return;
      // The row first: the finishing job's report (after the stop) then finds it.
      try {
        await createProcessing(ctx, live);
      } catch (err) {
        ctx.log.error({ err, sessionId: live.sessionId }, 'creating the processing recording failed; the finishing job’s report will create it');
      }
      ctx.recorder.stop(live.sessionId);
    },
  };
}

/** The session's recording as processing (title: the live's), unless it has one; the live points at it. */
async function createProcessing(ctx: RecordingsContext, live: RecordedLive): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(recordings)
      .values({ sessionId: live.sessionId, ownerId: live.hostId, title: live.title })
      .onConflictDoNothing({ target: recordings.sessionId })
      .returning({ id: recordings.id });
    if (created === undefined) return;
    await tx.update(liveSessions).set({ recordingId: created.id }).where(and(eq(liveSessions.id, live.sessionId), isNull(liveSessions.recordingId)));
  });
}
