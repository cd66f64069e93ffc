import { z } from 'zod';
import { lineText, multilineText } from './text';

/**
 * The live-session contract (/api/live and its /ws events): request schemas, response
 * shapes, events. Errors are the usual `{ error: { code, message, fields? } }`.
 */

export const LIVE_CATEGORIES = ['Music', 'Tech', 'Comedy', 'Sports', 'Education', 'News', 'Business', 'Health', 'Gaming', 'Other'] as const;
export type LiveCategory = (typeof LIVE_CATEGORIES)[number];
export type LiveStatus = 'scheduled' | 'live' | 'ended';

/** Viewer counts are pushed at most once per this interval per session. */
export const VIEWER_COUNT_INTERVAL_MS = 1000;
/** Thumbnails: same limits as avatars, stored as 1280x720 webp. */
export const THUMBNAIL_MAX_BYTES = 5 * 1024 * 1024;

export const createLiveBody = z.strictObject({
  title: lineText(200).pipe(z.string().min(1, 'Enter a title')),
  description: multilineText(2000).optional(),
  category: z.enum(LIVE_CATEGORIES, { message: `Choose one of: ${LIVE_CATEGORIES.join(', ')}` }),
  /** ISO 8601; must be in the future. Without it the session can start at once. */
  scheduledAt: z.iso.datetime({ offset: true }).optional(),
});
export type CreateLiveBody = z.infer<typeof createLiveBody>;

export const livePageQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(1000).default(1),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export interface HostSummary {
  id: string;
  handle: string;
  displayName: string;
  avatarUrl: string | null;
}

export interface LiveSession {
  id: string;
  title: string;
  description: string;
  category: LiveCategory;
  status: LiveStatus;
  scheduledAt: string | null;
  startedAt: string | null;
  endedAt: string | null;
  thumbnailUrl: string | null;
  /**
   * The live HLS playlist (CMAF) while the recorder captures it: for players without WebRTC and
   * viewers beyond WebRTC capacity. Null when not recorded (yet).
   */
  hlsUrl: string | null;
  /** Current viewers (live sessions), else 0. */
  viewers: number;
  peakViewers: number;
  host: HostSummary;
}

/** Where and how to open protoo to an SFU node (`${url}/?token=${token}`). */
export interface MediaJoin {
  url: string;
  token: string;
  /** The node the token is for (a page that loses it asks again with `?exclude=<node>`). */
  node: string;
  /**
   * TURN servers with credentials that expire with the token (none when the deployment has no
   * TURN): a page behind a firewall that lets nothing but 443 out relays through them. The node's
   * own UDP and TCP candidates come first; the browser only relays when those fail.
   */
  iceServers: IceServer[];
}

/**
 * GET /api/live/:id/token when this viewer is not given WebRTC: the live's WebRTC cap (operator's
 * LIVE_WEBRTC_CAP, or `npm run fleet -- cap`) is reached, or no media node has room. The page plays
 * the live's low-latency HLS (a few seconds behind) and asks again after about `retryAfterSec`
 * (jittered) to move back to WebRTC when a slot frees.
 */
export interface HlsJoin {
  mode: 'hls';
  /** Multivariant playlist of the video renditions (the simulcast layers). */
  playlist: string;
  /** Audio-only media playlist, for listen-only viewers. */
  audioPlaylist: string;
  reason: 'cap' | 'capacity';
  retryAfterSec: number;
}

/** What the viewer token route answers: a WebRTC join, or HLS. */
export type ViewerJoin = (MediaJoin & { mode: 'webrtc' }) | HlsJoin;

/** An RTCIceServer with TURN REST API credentials (see server/src/media/turn.ts). */
export interface IceServer {
  urls: string[];
  username: string;
  credential: string;
}

/**
 * GET /api/live/:id/token?exclude=<nodeId>: a page whose node went away (closed, killed, draining)
 * names it, so this placement skips it even before the registry has noticed.
 */
export const viewerTokenQuery = z.strictObject({
  exclude: z.string().regex(/^[\w.-]{1,64}$/, 'Not a node id').optional(),
  /**
   * `stage=1`: the caller has a stage invite ringing for this live and watches its HLS: a guest
   * needs WebRTC, so the live's WebRTC cap does not apply to them (the nodes' capacity does).
   * Without such an invite it changes nothing.
   */
  stage: z.literal('1', { message: 'stage is 1 or absent' }).optional(),
});

/**
 * A signed-in viewer given a live's HLS counts as watching it (a host can call them onto the
 * stage) for this long after; the page asks for WebRTC again well within it, which renews it.
 */
export const HLS_PRESENCE_MS = 60_000;

/** POST /api/live/:id/start */
export interface StartLiveResponse {
  session: LiveSession;
  join: MediaJoin;
}

/** GET /api/live/:id/stats */
export interface LiveStats {
  viewers: number;
  peakViewers: number;
  durationSec: number;
  startedAt: string | null;
  status: LiveStatus;
}

/** The live's own /ws events (the whole union of every feature is WsEvent in ./ws). */
export type LiveWsEvent =
  | { type: 'live_started'; session: LiveSession }
  | { type: 'viewer_count'; sessionId: string; viewers: number }
  | { type: 'live_ended'; sessionId: string };
