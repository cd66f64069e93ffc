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
 * - `window.podliveDelivery` (viewer page only): how the host's media reaches the page now:
 *   'webrtc' (a MediaSession on a node), 'hls' (the token route answered HLS: the live's low-latency
 *   playlists, a few seconds behind), or null (neither yet, or closed). A test waits on it for the
 *   switch back to WebRTC, which the page makes by itself.
 * - `window.podliveHls`: on the recording page, the hls.js player of the recording (`levels`,
 *   `currentLevel`); on the viewer page, the hls.js player of the live while on HLS (`latency`:
 *   seconds behind the playlist's live edge). Null while there is none (Safari's own HLS, an error
 *   stopped it, or WebRTC).
 */
export interface PodliveTestHooks {
  podliveMedia?: MediaSession;
  podliveNode?: string | null;
  podliveFrames?: FrameClock;
  podliveHls?: Hls | null;
  podliveDelivery?: 'webrtc' | 'hls' | null;
}

export function exposeForTests(hooks: PodliveTestHooks): void {
  if (typeof window === 'undefined') return;
  Object.assign(window, hooks);
}
