import { watch, type FSWatcher } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import pRetry from 'p-retry';
import type { Storage } from '@podlive/storage';
import { createLogger } from '@podlive/shared/logger';
import {
  LIVE_HLS_KEEP, LIVE_HLS_SEGMENT_SECONDS, LIVE_HLS_WINDOW, recordingKeys, type LiveHlsTrack, type RenditionId,
} from '@podlive/shared/recording';
import { LIVE_SEGMENT_NAME } from '../capture/ffmpeg-args';
import { parseMediaPlaylist, renderSlidingPlaylist } from '../capture/playlist';
import type { Rendition } from '../capture/Rendition';

const logger = createLogger('recorder').child({ module: 'LiveHls' });

const PLAYLIST_TYPE = 'application/vnd.apple.mpegurl';
/** A listed segment the watch missed is found by this poll. */
const POLL_MS = 250;

export interface LiveHlsOptions {
  storage: Storage;
  sessionId: string;
  /** Segments in each playlist (default LIVE_HLS_WINDOW). */
  window?: number;
  /** Segments kept in storage after leaving the playlist (default LIVE_HLS_KEEP). */
  keep?: number;
}

/** A segment in storage, in a track's playlist or behind it. */
interface Published {
  key: string;
  /** Relative to the track's playlist. */
  uri: string;
  initUri: string;
  durationSec: number;
  programDateTime?: string;
  /** Its init segment differs from the segment before it: a discontinuity. */
  discontinuity: boolean;
  /** Bits per second of this segment. */
  bitrate: number;
}

/** One live HLS track: its segments and the storage steps, one after another. */
interface Track {
  segments: Published[];
  /** Segments that left the playlist (the media sequence) and the discontinuities among them. */
  left: number;
  leftDiscontinuities: number;
  chain: Promise<void>;
  peakBitrate: number;
}

/** One FFmpeg run's live output of one track, read as FFmpeg lists it. */
interface Follower {
  track: LiveHlsTrack;
  playlistPath: string;
  /** Unique among the live's runs (the rendition's start and the run number): names in storage are never reused. */
  tag: string;
  /** Listed segments taken so far (FFmpeg numbers a run's segments from 0). */
  next: number;
  initUploaded: boolean;
  scanning: Promise<void>;
}

/** What is followed of one rendition: its runs' outputs, the watches and poll over them, and its detach. */
interface Followed {
  followers: Follower[];
  watchers: FSWatcher[];
  poll: NodeJS.Timeout;
  done?: Promise<void>;
}

/**
 * The live low-latency HLS of one live, in storage: each rendition's FFmpeg writes short
 * segments of its layer (and one of them the audio alone) beside the recording's chunks; this
 * uploads every segment once FFmpeg lists it, under a name used once (`<rendition start>.<run>`
 * and its number), removes the local file, then rewrites the track's sliding playlist (the last
 * `window` segments, a discontinuity where the run changes) and, when a track first appears, the
 * multivariant playlist. Segments that left the playlist `keep` segments ago are removed from
 * storage. Steps of one track run in order and are retried; a step that still fails is logged
 * and skipped (a gap for players, not a stopped live).
 */
export class LiveHls {
  readonly #o: Required<LiveHlsOptions>;
  readonly #keys: ReturnType<typeof recordingKeys>;
  readonly #tracks = new Map<LiveHlsTrack, Track>();
  readonly #followed = new WeakMap<Rendition, Followed>();
  #ended = false;

  constructor(o: LiveHlsOptions) {
    this.#o = { window: LIVE_HLS_WINDOW, keep: LIVE_HLS_KEEP, ...o };
    this.#keys = recordingKeys(o.sessionId);
  }

  /** The tracks published so far. */
  get tracks(): LiveHlsTrack[] {
    return [...this.#tracks.keys()];
  }

  /**
   * Follows what `rendition` (which writes the live HLS) lists, run after run, as track `r` (and
   * `audio`), until detach() or its close.
   */
  attach(rendition: Rendition, r: RenditionId): void {
    const live = rendition.liveHls;
    if (!live || this.#followed.has(rendition)) return;
    const tag = Date.now().toString(36);
    const state: Followed = { followers: [], watchers: [], poll: setInterval(() => scanAll(), POLL_MS) };
    const scanAll = () => state.followers.forEach((f) => void this.#scan(f));
    this.#followed.set(rendition, state);
    const follow = (run: number) => {
      if (state.followers.some((f) => f.tag === `${tag}.${run}`)) return;
      const tracks: [LiveHlsTrack, 'video' | 'audio'][] = live.audio ? [[r, 'video'], ['audio', 'audio']] : [[r, 'video']];
      for (const [track, kind] of tracks) {
        const follower: Follower = { track, playlistPath: rendition.livePlaylistPath(kind, run), tag: `${tag}.${run}`, next: 0, initUploaded: false, scanning: Promise.resolve() };
        // An old run's follower stays: its last segments may still be listed after the new run began.
        state.followers.push(follower);
        try {
          const watcher = watch(dirname(follower.playlistPath), (_event, name) => name === basename(follower.playlistPath) && void this.#scan(follower));
          watcher.on('error', () => undefined);
          state.watchers.push(watcher);
        } catch (err) {
          logger.warn({ sessionId: this.#o.sessionId, track, err }, 'cannot watch the live HLS directory: polling only');
        }
      }
    };
    rendition.on('started', ({ run }) => follow(run));
    const current = rendition.run;
    if (current) follow(current.number);
    rendition.on('close', () => void this.detach(rendition));
  }

  /**
   * The rendition stopped (or is being dropped): what its FFmpeg listed last is uploaded, then it
   * is no longer followed. Resolves when those uploads are done.
   */
  detach(rendition: Rendition): Promise<void> {
    const state = this.#followed.get(rendition);
    if (!state) return Promise.resolve();
    state.done ??= (async () => {
      clearInterval(state.poll);
      for (const w of state.watchers) w.close();
      await Promise.all(state.followers.map((f) => this.#scan(f)));
      await Promise.all(state.followers.map((f) => this.#tracks.get(f.track)?.chain));
    })();
    return state.done;
  }

  /** The live ended: every playlist gets its end (players stop at its last segment). */
  async end(): Promise<void> {
    this.#ended = true;
    await Promise.all([...this.#tracks.entries()].map(([track, state]) => this.#queue(track, state, 'end', () => this.#putPlaylist(track, state))));
  }

  /** Reads the follower's playlist (one reader at a time) and queues what it newly lists. */
  #scan(f: Follower): Promise<void> {
    f.scanning = f.scanning.then(() => this.#take(f)).catch((err: unknown) => {
      logger.warn({ sessionId: this.#o.sessionId, track: f.track, err: (err as Error).message }, 'cannot read a live HLS playlist');
    });
    return f.scanning;
  }

  async #take(f: Follower): Promise<void> {
    let text: string;
    try {
      text = await readFile(f.playlistPath, 'utf8');
    } catch {
      return; // not written yet
    }
    const playlist = parseMediaPlaylist(text);
    const dir = dirname(f.playlistPath);
    for (const listed of playlist.segments) {
      const match = LIVE_SEGMENT_NAME.exec(listed.uri);
      if (!match) continue;
      const number = Number(match[2]);
      if (number < f.next) continue;
      f.next = number + 1;
      const initPath = playlist.map === undefined ? undefined : join(dir, playlist.map);
      this.#publish(f, join(dir, listed.uri), number, listed.durationSec, listed.programDateTime, initPath);
    }
  }

  #track(track: LiveHlsTrack): Track {
    let state = this.#tracks.get(track);
    if (!state) {
      state = { segments: [], left: 0, leftDiscontinuities: 0, chain: Promise.resolve(), peakBitrate: 0 };
      this.#tracks.set(track, state);
    }
    return state;
  }

  #publish(f: Follower, path: string, number: number, durationSec: number, programDateTime: string | undefined, initPath: string | undefined): void {
    const state = this.#track(f.track);
    const key = this.#keys.llSegment(f.track, f.tag, number);
    const initKey = this.#keys.llInit(f.track, f.tag);
    void this.#queue(f.track, state, `segment ${f.tag}/${number}`, async () => {
      if (!f.initUploaded && initPath !== undefined) {
        await this.#o.storage.put(initKey, await readFile(initPath), 'video/mp4');
        f.initUploaded = true;
      }
      const body = await readFile(path);
      await this.#o.storage.put(key, body, 'video/iso.segment');
      await rm(path, { force: true });
      const previous = state.segments.at(-1);
      const initUri = relative(initKey);
      const bitrate = durationSec > 0 ? Math.round((body.length * 8) / durationSec) : 0;
      state.segments.push({
        key, uri: relative(key), initUri, durationSec, discontinuity: previous !== undefined && previous.initUri !== initUri, bitrate,
        ...(programDateTime === undefined ? {} : { programDateTime }),
      });
      const firstOfTrack = state.peakBitrate === 0;
      state.peakBitrate = Math.max(state.peakBitrate, bitrate);
      await this.#slide(state);
      await this.#putPlaylist(f.track, state);
      if (firstOfTrack && f.track !== 'audio') await this.#putMaster();
    }, () => rm(path, { force: true }));
  }

  /** Segments past the window leave the playlist; those `keep` segments behind it leave storage. */
  async #slide(state: Track): Promise<void> {
    const gone = state.segments.length - this.#o.window - this.#o.keep;
    if (gone > 0) {
      const removed = state.segments.splice(0, gone);
      state.left += removed.length;
      state.leftDiscontinuities += removed.filter((s) => s.discontinuity).length;
      await Promise.all(removed.map((s) => this.#o.storage.delete(s.key).catch(() => undefined)));
    }
  }

  async #putPlaylist(track: LiveHlsTrack, state: Track): Promise<void> {
    const from = Math.max(0, state.segments.length - this.#o.window);
    const hidden = state.segments.slice(0, from);
    const listed = state.segments.slice(from);
    const text = renderSlidingPlaylist({
      segments: listed.map((s) => ({ uri: s.uri, durationSec: s.durationSec, initUri: s.initUri, ...(s.programDateTime === undefined ? {} : { programDateTime: s.programDateTime }) })),
      mediaSequence: state.left + from,
      // Discontinuities up to and including the first listed segment's (it is listed without its tag).
      discontinuitySequence: state.leftDiscontinuities + hidden.filter((s) => s.discontinuity).length + (listed[0]?.discontinuity ? 1 : 0),
      // The longest listed segment, rounded (a run's first one often runs long): as the spec wants
      // of each playlist, though it may then change while live (players take the latest).
      targetDuration: Math.max(Math.ceil(LIVE_HLS_SEGMENT_SECONDS), ...listed.map((s) => Math.round(s.durationSec))),
      ended: this.#ended,
    });
    await this.#o.storage.put(this.#keys.llPlaylist(track), Buffer.from(text), PLAYLIST_TYPE);
  }

  /** The multivariant playlist: every video track, with the highest segment bitrate seen so far. */
  async #putMaster(): Promise<void> {
    const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
    const video = [...this.#tracks.entries()].filter(([track, state]) => track !== 'audio' && state.peakBitrate > 0).sort(([a], [b]) => a.localeCompare(b));
    for (const [track, state] of video) {
      // Headroom: a segment with a key frame in it is above the layer's average.
      lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${Math.round(state.peakBitrate * 1.25)}`, `${track}/index.m3u8`);
    }
    await this.#o.storage.put(this.#keys.llMaster, Buffer.from(`${lines.join('\n')}\n`), PLAYLIST_TYPE);
  }

  #queue(track: LiveHlsTrack, state: Track, what: string, step: () => Promise<void>, onFailure?: () => Promise<unknown>): Promise<void> {
    state.chain = state.chain
      .then(() => pRetry(step, { retries: 3, minTimeout: 100, factor: 2 }))
      .catch(async (err: unknown) => {
        await onFailure?.().catch(() => undefined);
        logger.error({ sessionId: this.#o.sessionId, track, what, err: (err as Error).message }, 'live HLS storage step failed');
      });
    return state.chain;
  }
}

/** A key under `ll/<track>/`, relative to the track's playlist. */
function relative(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
