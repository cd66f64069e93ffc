/**
 * HLS media playlists of a rendition: reading the one FFmpeg rewrites for its run, and writing the
 * live one that spans every run (CMAF: fMP4 segments, one init segment per FFmpeg run).
 */

/** A segment as FFmpeg's playlist lists it. */
export interface ListedSegment {
  /** As written in the playlist (relative to it): `seg-00003.m4s`. */
  uri: string;
  durationSec: number;
  /** `#EXT-X-PROGRAM-DATE-TIME` of the segment, as written (FFmpeg's `program_date_time` flag). */
  programDateTime?: string;
}

export interface ParsedPlaylist {
  /** The `#EXT-X-MAP` URI (the run's init segment), once FFmpeg has written it. */
  map: string | undefined;
  mediaSequence: number;
  segments: ListedSegment[];
  /** `#EXT-X-ENDLIST`: FFmpeg finished the run cleanly. */
  ended: boolean;
}

/**
 * Parses a media playlist. Tolerates a truncated last line (a reader racing a writer): a URI line
 * is only taken after its `#EXTINF`, and an `#EXTINF` without a URI line yet is ignored.
 */
export function parseMediaPlaylist(text: string): ParsedPlaylist {
  const result: ParsedPlaylist = { map: undefined, mediaSequence: 0, segments: [], ended: false };
  let pending: number | undefined;
  let dateTime: string | undefined;
  const lines = text.split(/\r?\n/);
  // A last line without its newline may be cut short: only complete lines count.
  if (!/\n$/.test(text)) lines.pop();
  for (const raw of lines) {
    const line = raw.trim();
    if (!line) continue;
    if (line.startsWith('#EXTINF:')) {
      const duration = Number.parseFloat(line.slice('#EXTINF:'.length));
      pending = Number.isFinite(duration) ? duration : undefined;
    } else if (line.startsWith('#EXT-X-MAP:')) {
      result.map = /URI="([^"]+)"/.exec(line)?.[1];
    } else if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) {
      result.mediaSequence = Number.parseInt(line.slice('#EXT-X-MEDIA-SEQUENCE:'.length), 10) || 0;
    } else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      dateTime = line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length);
    } else if (line === '#EXT-X-ENDLIST') {
      result.ended = true;
    } else if (!line.startsWith('#') && pending !== undefined) {
      result.segments.push({ uri: line, durationSec: pending, ...(dateTime === undefined ? {} : { programDateTime: dateTime }) });
      pending = undefined;
      dateTime = undefined;
    }
  }
  return result;
}

/** A segment of the live playlist: its URI, duration and the FFmpeg run (init segment) it belongs to. */
export interface LiveSegment {
  uri: string;
  durationSec: number;
  /** The init segment this segment decodes with. */
  initUri: string;
}

export interface LivePlaylistOptions {
  segments: readonly LiveSegment[];
  /** The nominal segment length: the target duration is at least its ceiling plus one. */
  segmentSeconds: number;
  /** Media sequence number of the first segment. */
  firstIndex: number;
  /** The recording is over: `#EXT-X-ENDLIST`. */
  ended: boolean;
}

/**
 * The live playlist of a rendition (an EVENT playlist: segments are only ever appended). Where the
 * init segment changes (FFmpeg restarted), a `#EXT-X-DISCONTINUITY` and the new `#EXT-X-MAP`.
 * The target duration may not change while a playlist is live, so it starts one second above the
 * nominal length (a segment runs a little long when its key frame comes late) and only grows if
 * a segment was even longer.
 */
export function renderLivePlaylist(o: LivePlaylistOptions): string {
  const target = Math.max(Math.ceil(o.segmentSeconds) + 1, ...o.segments.map((s) => Math.round(s.durationSec)));
  const head = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-MEDIA-SEQUENCE:${o.firstIndex}`, '#EXT-X-PLAYLIST-TYPE:EVENT', '#EXT-X-INDEPENDENT-SEGMENTS'];
  return renderMediaPlaylist(head, o.segments, o.ended);
}

/**
 * The segment lines under `head`: where the init segment changes (another FFmpeg run), a
 * `#EXT-X-DISCONTINUITY` (not before the first) and the new `#EXT-X-MAP`; a segment's program
 * date time when it has one.
 */
function renderMediaPlaylist(head: string[], segments: readonly (LiveSegment & { programDateTime?: string })[], ended: boolean): string {
  const lines = [...head];
  let map: string | undefined;
  for (const s of segments) {
    if (s.initUri !== map) {
      if (map !== undefined) lines.push('#EXT-X-DISCONTINUITY');
      lines.push(`#EXT-X-MAP:URI="${s.initUri}"`);
      map = s.initUri;
    }
    if (s.programDateTime !== undefined) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.programDateTime}`);
    lines.push(`#EXTINF:${s.durationSec.toFixed(6)},`, s.uri);
  }
  if (ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** A segment of a sliding live playlist: with its wall-clock start when FFmpeg gave one. */
export interface SlidingSegment extends LiveSegment {
  programDateTime?: string;
}

export interface SlidingPlaylistOptions {
  /** The segments in the window, oldest first. */
  segments: readonly SlidingSegment[];
  /** Media sequence number of the window's first segment. */
  mediaSequence: number;
  /** Discontinuities that have left the window (EXT-X-DISCONTINUITY-SEQUENCE). */
  discontinuitySequence: number;
  targetDuration: number;
  ended: boolean;
}

/**
 * A live playlist over a sliding window (the live low-latency HLS): no playlist type, the media
 * sequence counting the segments that left, a discontinuity (and the new init segment) where
 * the FFmpeg run changes, each segment's wall-clock start.
 */
export function renderSlidingPlaylist(o: SlidingPlaylistOptions): string {
  const head = [
    '#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${o.targetDuration}`, `#EXT-X-MEDIA-SEQUENCE:${o.mediaSequence}`,
    `#EXT-X-DISCONTINUITY-SEQUENCE:${o.discontinuitySequence}`, '#EXT-X-INDEPENDENT-SEGMENTS',
  ];
  return renderMediaPlaylist(head, o.segments, o.ended);
}
