import type Hls from 'hls.js';
import type { MediaSession } from './MediaSession';
import type { FrameClock } from './frames';

/**
 * What the end-to-end tests read from a page with `page.evaluate` (nothing in the app reads these).
 * The viewer page (/live/[id]) and the studio set them:
 *
 * - `window.podliveMedia`: the MediaSession in use now. On the viewer page it changes when the page
 *   reconnects or moves to another node (read it again, don't keep it): `inboundStats()`,
 *   `consumerStats()`, `transportId('recv')`, `selectedPath('recv')`, `consumers`, `producers`.
 * - `window.podliveNode`: the id of the SFU node that session is on (MediaJoin.node), or null
 *   while not connected. A reconnect after a node dies, or a move off a draining node, changes it.
 * - `window.podliveFrames` (viewer page only): a FrameClock on the main <video>, fed by
 *   requestVideoFrameCallback: `count` frames presented, `lastAt` (performance.now() ms of the
 *   last one), `maxGapMs` (longest time between two presented frames) and `reset()`. To measure
 *   what a viewer sees of a node kill or a drain: `reset()` just before, wait until `count` grows
 *   again well after (frames are back), then read `maxGapMs`; the gap that spans the event ends at
 *   the first frame after it, so it is included.
 * - `window.podliveHls` (recording page only): the hls.js player of the recording (`levels`,
 *   `currentLevel`), or null while there is none (Safari's own HLS, or an error stopped it).
 */
export interface PodliveTestHooks {
  podliveMedia?: MediaSession;
  podliveNode?: string | null;
  podliveFrames?: FrameClock;
  podliveHls?: Hls | null;
}

export function exposeForTests(hooks: PodliveTestHooks): void {
  if (typeof window === 'undefined') return;
  Object.assign(window, hooks);
}
