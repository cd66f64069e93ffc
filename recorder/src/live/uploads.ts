import { readFile } from 'node:fs/promises';
import ffmpeg from 'fluent-ffmpeg';
import pRetry from 'p-retry';
import type { Storage } from '@podlive/storage';
import { createLogger } from '@podlive/shared/logger';
import { recordingKeys, type RenditionId } from '@podlive/shared/recording';
import type { InitSegment, MediaSegment } from '../capture/Rendition';
import { renderLivePlaylist } from '../capture/playlist';
import { files } from '../capture/ffmpeg-args';
import type { CaptureMetrics } from '../metrics';
import type { ManifestStore } from './manifest';

const logger = createLogger('recorder').child({ module: 'RecordingUploads' });

const probe = (path: string) => new Promise<ffmpeg.FfprobeData>((resolve, reject) => ffmpeg.ffprobe(path, (err: Error | null, data) => (err ? reject(err) : resolve(data))));

export interface RecordingUploadsOptions {
  storage: Storage;
  /** The live's manifest: each uploaded chunk is added to it. */
  manifest: ManifestStore;
  metrics: CaptureMetrics;
  segmentSeconds: number;
  sessionId: string;
}

/**
 * What a live's recording puts in storage as FFmpeg completes its files: each init segment and
 * chunk, then the rendition's live playlist and the master, then the manifest. Storage work runs
 * one step after another, in the order FFmpeg finished the files (a chunk is in storage before the
 * playlist lists it), each retried with backoff; a step that still fails is logged and the next
 * goes on (a missing chunk is a gap, not a stopped recording).
 */
export class RecordingUploads {
  readonly #o: RecordingUploadsOptions;
  readonly #keys: ReturnType<typeof recordingKeys>;
  #chain: Promise<void> = Promise.resolve();

  constructor(o: RecordingUploadsOptions) {
    this.#o = o;
    this.#keys = recordingKeys(o.sessionId);
  }

  /** Resolves once every step queued so far is done (or failed for good). */
  settled(): Promise<void> {
    return this.#chain;
  }

  init(r: RenditionId, init: InitSegment): void {
    this.#o.metrics.written(r, init.bytes);
    void this.#queue(`init ${r}/${init.run}`, async () => {
      await this.#o.storage.put(this.#keys.init(r, init.run), await readFile(init.path), 'video/mp4');
      const video = (await probe(init.path)).streams.find((st) => st.codec_type === 'video');
      if (video?.width && video.height) this.#o.manifest.setVideo(r, video.width, video.height);
    });
  }

  segment(r: RenditionId, segment: MediaSegment): void {
    this.#o.metrics.written(r, segment.bytes);
    const uploaded = this.#o.metrics.chunkWaiting(r);
    void this.#queue(`chunk ${r}/${segment.index}`, async () => {
      await this.#o.storage.put(this.#keys.segment(r, segment.index), await readFile(segment.path), 'video/iso.segment');
    }, uploaded);
    void this.#queue(`playlist ${r}/${segment.index}`, async () => {
      await this.#o.manifest.add(r, { index: segment.index, run: segment.run, durationSec: segment.durationSec, bytes: segment.bytes, at: Date.now() });
      await this.#uploadPlaylist(r, false);
    });
  }

  /** The live ended (every chunk uploaded): the manifest closed, every playlist ended. */
  async end(): Promise<void> {
    await this.#o.manifest.end();
    for (const r of Object.keys(this.#o.manifest.current.renditions) as RenditionId[]) await this.#uploadPlaylist(r, true);
  }

  #queue(what: string, step: () => Promise<void>, settled?: (done: boolean) => void): Promise<void> {
    this.#chain = this.#chain
      .then(() => pRetry(step, { retries: 4, minTimeout: 200, factor: 2 }))
      .then(() => settled?.(true), (err: unknown) => {
        settled?.(false);
        logger.error({ sessionId: this.#o.sessionId, what, err: (err as Error).message }, 'storage step failed');
      });
    return this.#chain;
  }

  /** The rendition's live playlist from the manifest (every run so far), and the master over all renditions. */
  async #uploadPlaylist(r: RenditionId, ended: boolean): Promise<void> {
    const segments = this.#o.manifest.current.renditions[r]?.segments ?? [];
    const text = renderLivePlaylist({
      segments: segments.map((s) => ({ uri: files.segment(s.index), durationSec: s.durationSec, initUri: files.init(s.run) })),
      segmentSeconds: this.#o.segmentSeconds,
      firstIndex: segments[0]?.index ?? 0,
      ended,
    });
    await this.#o.storage.put(this.#keys.livePlaylist(r), Buffer.from(text), 'application/vnd.apple.mpegurl');
    await this.#o.storage.put(this.#keys.liveMaster, Buffer.from(this.#o.manifest.masterPlaylist()), 'application/vnd.apple.mpegurl');
  }
}
