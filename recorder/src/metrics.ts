import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createMetricsRegistry } from '@podlive/shared/metrics';
import type { RenditionId } from '@podlive/shared/recording';
import { MAX_LAYERS } from './live/armed';

/**
 * The recorder's Prometheus metrics. No label carries an id (of a session, user or node): the
 * labels are `rendition` (r0, r1, r2: the simulcast layer, lowest first; its height is only known
 * when the recording is finished), `state` and `result`. The gauges are counted from the objects
 * at each scrape (RecorderGauges), never kept in step by hand; the counters are told as things
 * happen (CaptureMetrics, the finishing queue's observer).
 */

/** What the gauges read at each scrape. */
export interface RecorderGauges {
  /** Lives being recorded: told to start, not stopped (joining with renditions armed, recording, or flushing at the stop). */
  lives(): number;
  /** Renditions fed by the node (FFmpeg capturing). */
  renditions(): number;
  /** Renditions open, capturing or not: armed ahead of the host's camera, capturing, or flushing. */
  renditionsOpen(): number;
  /** Plain consumers on the node feeding the capturing renditions. */
  consumers(): number;
  finishJobs(): Promise<{ queued: number; running: number }>;
}

/** What a live's recording tells as it goes (LiveRecording). */
export interface CaptureMetrics {
  /** FFmpeg exited unexpectedly and is started again (the rendition's `discontinuity`). */
  ffmpegRestarted(rendition: RenditionId): void;
  /** FFmpeg completed a file (a chunk or an init segment) and handed it over for upload. */
  written(rendition: RenditionId, bytes: number): void;
  /** A chunk waits for its upload; call what is returned once it is in storage (true) or given up (false). */
  chunkWaiting(rendition: RenditionId): (uploaded: boolean) => void;
}

export type FinishResult = 'ok' | 'failed';

/** From seconds to an hour: finishing downloads every chunk of a live, joins them and uploads MP4s. */
export const FINISH_BUCKETS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600];

const RENDITIONS: RenditionId[] = Array.from({ length: MAX_LAYERS }, (_, layer) => `r${layer}`);

export class RecorderMetrics implements CaptureMetrics {
  /** prom-client's process metrics (CPU, memory, event loop, GC) and the recorder's. */
  readonly registry: Registry = createMetricsRegistry();
  readonly #ffmpegRestarts: Counter<'rendition'>;
  readonly #bytesWritten: Counter<'rendition'>;
  readonly #chunksUploaded: Counter<'rendition'>;
  readonly #chunkUploadFailures: Counter<'rendition'>;
  readonly #finishJobs: Counter<'result'>;
  readonly #finishAttemptFailures: Counter;
  readonly #finishDuration: Histogram;
  /** When each chunk handed over and not in storage yet was handed over (ms since the epoch). */
  readonly #waiting = new Set<{ at: number }>();

  constructor(read: RecorderGauges) {
    const registers = [this.registry];
    const waiting = this.#waiting;
    new Gauge({
      name: 'podlive_recorder_lives', registers,
      help: 'Lives being recorded: from the start command (renditions armed while it joins the origin) until the stop has flushed the last chunk; a live whose join gave up is not counted',
      collect() { this.set(read.lives()); },
    });
    new Gauge({
      name: 'podlive_recorder_renditions', registers,
      help: 'Renditions capturing: FFmpeg fed by the origin (one per simulcast layer of each live)',
      collect() { this.set(read.renditions()); },
    });
    new Gauge({
      name: 'podlive_recorder_renditions_open', registers,
      help: 'Renditions open, capturing or not: FFmpeg armed ahead of the host\'s camera, capturing, or flushing at the stop',
      collect() { this.set(read.renditionsOpen()); },
    });
    new Gauge({
      name: 'podlive_recorder_consumers', registers,
      help: 'RTP streams consumed from the SFU now (plain consumers feeding the capturing renditions: the host\'s layer and every voice, per rendition)',
      collect() { this.set(read.consumers()); },
    });
    this.#ffmpegRestarts = new Counter({
      name: 'podlive_recorder_ffmpeg_restarts_total', registers, labelNames: ['rendition'],
      help: 'FFmpeg captures that exited unexpectedly and were started again',
    });
    this.#bytesWritten = new Counter({
      name: 'podlive_recorder_bytes_written_total', registers, labelNames: ['rendition'],
      help: 'Bytes of the chunks and init segments FFmpeg completed and handed over for upload',
    });
    this.#chunksUploaded = new Counter({
      name: 'podlive_recorder_chunks_uploaded_total', registers, labelNames: ['rendition'],
      help: 'Chunks (media segments) put in storage',
    });
    this.#chunkUploadFailures = new Counter({
      name: 'podlive_recorder_chunk_upload_failures_total', registers, labelNames: ['rendition'],
      help: 'Chunks given up after their upload retries (each a gap in the recording)',
    });
    new Gauge({
      name: 'podlive_recorder_chunks_waiting', registers,
      help: 'Chunks handed over by FFmpeg and not in storage yet',
      collect() { this.set(waiting.size); },
    });
    new Gauge({
      name: 'podlive_recorder_upload_lag_seconds', registers,
      help: 'Age of the oldest chunk handed over by FFmpeg and not in storage yet (0 when none waits)',
      collect() {
        let oldest = Number.POSITIVE_INFINITY;
        for (const chunk of waiting) oldest = Math.min(oldest, chunk.at);
        this.set(oldest === Number.POSITIVE_INFINITY ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
      },
    });
    new Gauge({
      name: 'podlive_recorder_finish_jobs', registers, labelNames: ['state'],
      help: 'Finishing jobs: queued (waiting, or between attempts; with Redis the fleet\'s shared queue, the same on every recorder) and running on this recorder',
      async collect() {
        const counts = await read.finishJobs();
        this.set({ state: 'queued' }, counts.queued);
        this.set({ state: 'running' }, counts.running);
      },
    });
    this.#finishJobs = new Counter({
      name: 'podlive_recorder_finish_jobs_total', registers, labelNames: ['result'],
      help: 'Finishing jobs done with on this recorder: ok, or failed for good after every attempt',
    });
    this.#finishAttemptFailures = new Counter({
      name: 'podlive_recorder_finish_attempt_failures_total', registers,
      help: 'Finishing attempts that failed (retried while attempts remain; a live still being recorded is one)',
    });
    this.#finishDuration = new Histogram({
      name: 'podlive_recorder_finish_duration_seconds', registers, buckets: FINISH_BUCKETS,
      help: 'How long finishing a recording took (the attempt that succeeded)',
    });
    // Every series from the start: a counter that appears at 1 loses that first increase in rate().
    for (const rendition of RENDITIONS) {
      for (const counter of [this.#ffmpegRestarts, this.#bytesWritten, this.#chunksUploaded, this.#chunkUploadFailures]) counter.inc({ rendition }, 0);
    }
    for (const result of ['ok', 'failed'] satisfies FinishResult[]) this.#finishJobs.inc({ result }, 0);
  }

  ffmpegRestarted(rendition: RenditionId): void {
    this.#ffmpegRestarts.inc({ rendition });
  }

  written(rendition: RenditionId, bytes: number): void {
    this.#bytesWritten.inc({ rendition }, bytes);
  }

  chunkWaiting(rendition: RenditionId): (uploaded: boolean) => void {
    const chunk = { at: Date.now() };
    this.#waiting.add(chunk);
    return (uploaded) => {
      if (!this.#waiting.delete(chunk)) return;
      (uploaded ? this.#chunksUploaded : this.#chunkUploadFailures).inc({ rendition });
    };
  }

  /** One run of a finishing job ended. */
  finishAttempt(ok: boolean, seconds: number): void {
    if (ok) this.#finishDuration.observe(seconds);
    else this.#finishAttemptFailures.inc();
  }

  /** A finishing job is done with on this recorder. */
  finishSettled(result: FinishResult): void {
    this.#finishJobs.inc({ result });
  }
}
