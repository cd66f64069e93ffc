import { z } from 'zod';
import { lineText } from './text';
import type { HostSummary } from './live';

/**
 * Recording: the contract between the control plane, the recorder and the web app.
 *
 * - While a live runs, the recorder consumes the origin's producers over PlainTransports (the node's
 *   `recorder` media role) into one FFmpeg per rendition (H.264 copied from one simulcast layer,
 *   Opus → AAC) and uploads each fMP4 chunk of `RECORDING_CHUNK_SECONDS` as soon as FFmpeg closes
 *   it, then the rendition's live HLS playlist, then the manifest (what the finishing job and a
 *   restarted recorder read).
 * - Server → recorder: `POST /control/recordings` (RecorderStartBody) when a live starts or moves
 *   to another origin, `POST /control/recordings/:sessionId/stop` when it ends; control token for
 *   node id `recorder`.
 * - Recorder → server: `PUT /internal/recordings/:sessionId` (RecordingFinishedBody) when the
 *   finishing job is done (control token for node id `server`); the server writes the row and
 *   tells the host (`recording_ready` on /ws and a notification).
 */

/** Length of a chunk (fMP4 segment) of the live recording. */
export const RECORDING_CHUNK_SECONDS = 30;

/** The control token `node` claim the recorder accepts commands with, and the one the server does. */
export const RECORDER_CONTROL_ID = 'recorder';
export const SERVER_CONTROL_ID = 'server';

/** Rendition of one simulcast spatial layer while recording (`r0` lowest); named by height once finished. */
export const renditionIdSchema = z.string().regex(/^r[0-2]$/, 'a rendition id is r0, r1 or r2');
export type RenditionId = z.infer<typeof renditionIdSchema>;

const pad = (n: number) => String(n).padStart(5, '0');

/**
 * The live low-latency HLS (what viewers past WebRTC capacity play): ~1 s CMAF segments of each
 * rendition (its simulcast layer copied) and of the audio alone, in a sliding playlist of
 * LIVE_HLS_WINDOW segments. Written by the recorder's FFmpegs beside the recording (a third output
 * of the same packets): see shared/ARCHITECTURE.md.
 */
export const LIVE_HLS_SEGMENT_SECONDS = 1;
export const LIVE_HLS_WINDOW = 6;
/** Segments stay in storage this many segments after leaving the playlist (players and caches behind), then go. */
export const LIVE_HLS_KEEP = 60;
/** A live HLS track: a rendition's video and audio, or the audio alone. */
export type LiveHlsTrack = RenditionId | 'audio';
/**
 * Cache-Control of the live HLS objects: every segment and init segment has a name used once
 * (run and index), so its content never changes; playlists change every segment.
 */
export const LIVE_HLS_CACHE_CONTROL = {
  immutable: 'public, max-age=31536000, immutable',
  playlist: 'public, max-age=1',
} as const;

/** Where a session's recording objects live in storage (same keys for S3 and the local directory). */
export function recordingKeys(sessionId: string) {
  const root = `recordings/${sessionId}`;
  return {
    root,
    /** Live: a multivariant playlist over every rendition's media playlist (CMAF, fMP4). */
    liveMaster: `${root}/live/master.m3u8`,
    livePlaylist: (r: RenditionId) => `${root}/live/${r}/index.m3u8`,
    /** Each FFmpeg run (a restart after a crash, a new origin) writes its own init segment. */
    init: (r: RenditionId, run: number) => `${root}/live/${r}/init-${run}.mp4`,
    segment: (r: RenditionId, index: number) => `${root}/live/${r}/seg-${pad(index)}.m4s`,
    manifest: `${root}/live/manifest.json`,
    /** Live low-latency HLS (LIVE_HLS_SEGMENT_SECONDS segments, a sliding window). */
    llMaster: `${root}/ll/master.m3u8`,
    llPlaylist: (track: LiveHlsTrack) => `${root}/ll/${track}/index.m3u8`,
    /** `tag` names one FFmpeg run of the live (unique: see the recorder's live-hls.ts), so no name is used twice. */
    llInit: (track: LiveHlsTrack, tag: string) => `${root}/ll/${track}/init-${tag}.mp4`,
    llSegment: (track: LiveHlsTrack, tag: string, index: number) => `${root}/ll/${track}/${tag}-${pad(index)}.m4s`,
    /**
     * Finished: one MP4 per rendition (chunks concatenated, no re-encode) and a thumbnail. The VOD
     * playlists are the live ones, closed with #EXT-X-ENDLIST when the live ended.
     */
    vodMp4: (name: string) => `${root}/vod/${name}.mp4`,
    thumbnail: `${root}/thumbnail.jpg`,
    /** The live's own thumbnail (the one the host uploaded in the studio), copied: preferred to the first frame. */
    cover: `${root}/cover.webp`,
  };
}

/** One uploaded chunk of a rendition. `run` names the init segment it decodes with. */
export const manifestSegmentSchema = z.object({
  index: z.number().int().min(0),
  run: z.number().int().min(0),
  durationSec: z.number().min(0),
  bytes: z.number().int().min(0),
  /** ms since the epoch when the chunk was uploaded. */
  at: z.number(),
});
export type ManifestSegment = z.infer<typeof manifestSegmentSchema>;

/** What the recorder has captured of a session: rewritten after every uploaded chunk. */
export const recordingManifestSchema = z.object({
  sessionId: z.uuid(),
  hostId: z.uuid(),
  startedAt: z.number(),
  /** Set once the live ended and the last chunks are uploaded: the finishing job may run. */
  endedAt: z.number().nullable(),
  renditions: z.record(renditionIdSchema, z.object({
    width: z.number().int().min(0).nullable(),
    height: z.number().int().min(0).nullable(),
    segments: z.array(manifestSegmentSchema),
  })),
});
export type RecordingManifest = z.infer<typeof recordingManifestSchema>;

/**
 * The recorder holds no signing key: the control plane gives it its tokens. The `recorder` media
 * token of a start command is good for that live on that origin for this long (the recorder joins
 * with it again after its own restart); a report token (start and stop commands) for this long
 * (the finishing job may wait in its queue while the recorder is down).
 */
export const RECORDER_MEDIA_TOKEN_TTL_SEC = 24 * 3600;
export const RECORDING_REPORT_TOKEN_TTL_SEC = 24 * 3600;

const token = z.string().min(1).max(4096);

/** POST /control/recordings: record (or keep recording) a live from this origin node. */
export const recorderStartBody = z.strictObject({
  sessionId: z.uuid(),
  hostId: z.uuid(),
  /** The origin, and the `recorder` media token for it (role recorder, this live, this node). */
  node: z.strictObject({ id: z.string().regex(/^[\w.-]{1,64}$/), url: z.url(), token }),
  /** The report token (see recorderStopBody), for a live that ends while the recorder is down. */
  reportToken: token,
});
export type RecorderStartBody = z.infer<typeof recorderStartBody>;

/**
 * POST /control/recordings/:sessionId/stop: the live ended. `reportToken` is the control token the
 * finishing job reports with (PUT /internal/recordings/:sessionId: node `server`, scope
 * `recording:report`, bound to this live).
 */
export const recorderStopBody = z.strictObject({ reportToken: token });
export type RecorderStopBody = z.infer<typeof recorderStopBody>;

/** A finished rendition, as stored on the recording row. */
export const finishedRenditionSchema = z.object({
  /** `720p`, from the height FFprobe found. */
  name: z.string().regex(/^\d{2,4}p$/),
  width: z.number().int().min(1),
  height: z.number().int().min(1),
  bitrateKbps: z.number().int().min(0),
  /** The rendition's MP4. */
  key: z.string().min(1),
  /** Its VOD media playlist (fMP4 chunks). */
  playlistKey: z.string().min(1),
});
export type FinishedRendition = z.infer<typeof finishedRenditionSchema>;

/** PUT /internal/recordings/:sessionId: the finishing job's result (idempotent). */
export const recordingFinishedBody = z.strictObject({
  status: z.enum(['ready', 'failed']),
  durationSec: z.number().int().min(0),
  sizeBytes: z.number().int().min(0),
  renditions: z.array(finishedRenditionSchema).max(3),
  masterKey: z.string().min(1).nullable(),
  thumbnailKey: z.string().min(1).nullable(),
  error: z.string().max(500).optional(),
});
export type RecordingFinishedBody = z.infer<typeof recordingFinishedBody>;

export type RecordingVisibility = 'public' | 'private';

/** A recording as the API returns it. URLs are presigned when the recording is private. */
export interface Recording {
  id: string;
  sessionId: string;
  title: string;
  visibility: RecordingVisibility;
  status: 'processing' | 'ready' | 'failed';
  durationSec: number | null;
  sizeBytes: number | null;
  views: number;
  createdAt: string;
  thumbnailUrl: string | null;
  /** The VOD multivariant playlist (hls.js plays it; its quality menu lists the renditions). */
  playlistUrl: string | null;
  renditions: { name: string; width: number; height: number; bitrateKbps: number; url: string }[];
  owner: HostSummary;
}

/** PATCH /api/recordings/:id (owner only). */
export const recordingPatchBody = z.strictObject({
  title: lineText(200).pipe(z.string().min(1, 'Enter a title')).optional(),
  visibility: z.enum(['public', 'private']).optional(),
}).refine((b) => b.title !== undefined || b.visibility !== undefined, 'nothing to change');
export type RecordingPatchBody = z.infer<typeof recordingPatchBody>;

/**
 * POST /api/recordings/:id/views answers this: the count, and whether this call added to it (a
 * viewer — account, or address when signed out — counts once an hour per recording; the owner not).
 */
export interface RecordingViewResult {
  views: number;
  counted: boolean;
}

/** GET /api/users/:handle/recordings?cursor=&limit= */
export const recordingsPageQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export interface RecordingsPage {
  items: Recording[];
  nextCursor: string | null;
}

/** /ws: the host's recording is playable. */
export type RecordingWsEvent = { type: 'recording_ready'; recording: Recording };
