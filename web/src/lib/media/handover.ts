import type { MediaSession } from './MediaSession';

/**
 * Make-before-break between two nodes: the viewer's new session must play what the old one plays
 * before the page swaps its media elements to it and closes the old one. These are the rules,
 * kept apart from the page so they can be tested without a browser.
 */

export type Kind = 'audio' | 'video';

/** One consumer of the host's media, as far as the swap cares. */
export interface TrackState {
  kind: Kind;
  /** The host paused (muted) it: nothing to wait for, it sends nothing anywhere. */
  paused: boolean;
  /** Media arrived: decoded video frames, or received audio packets. */
  flowing: boolean;
}

/** What the new session has to play before the swap: every kind the old one carries, unless paused. */
export function kindsToCarry(current: readonly TrackState[]): Set<Kind> {
  return new Set(current.filter((t) => !t.paused).map((t) => t.kind));
}

/** Whether `candidate` plays every kind in `kinds` (or has it paused by the host). */
export function carries(candidate: readonly TrackState[], kinds: ReadonlySet<Kind>): boolean {
  return [...kinds].every((kind) => candidate.some((t) => t.kind === kind && (t.flowing || t.paused)));
}

/**
 * Whether a session plays the host, for leaving HLS: it consumes some of the host's tracks, and each
 * has media flowing or is paused by the host. (The old delivery, HLS, has no consumers to compare with.)
 */
export function playsHost(states: readonly TrackState[]): boolean {
  return states.length > 0 && states.every((t) => t.flowing || t.paused);
}

/** The host's consumers on `session`, with what arrived on each so far. */
export async function hostTrackStates(session: MediaSession, hostId: string): Promise<TrackState[]> {
  const stats = await session.consumerStats();
  return stats
    .filter((s) => s.userId === hostId)
    .map((s) => ({ kind: s.kind, paused: session.isProducerPaused(s.producerId), flowing: s.kind === 'video' ? s.framesDecoded > 0 : s.packetsReceived > 0 }));
}

/**
 * Polls `check` every `intervalMs` until it answers true (→ true) or `timeoutMs` passes (→ false).
 * A check that throws ends the wait with that error.
 */
export async function waitUntil(check: () => boolean | Promise<boolean>, { timeoutMs, intervalMs }: { timeoutMs: number; intervalMs: number }): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
