import type { ChildProcess } from 'node:child_process';
import { constants, watch, type FSWatcher } from 'node:fs';
import { access, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import ffmpeg from 'fluent-ffmpeg';
import { createLogger } from '@podlive/shared/logger';
import { RECORDING_CHUNK_SECONDS } from '@podlive/shared/recording';
import { SafeEmitter } from '@podlive/shared/emitter';
import { files, inputArgs, liveFiles, outputArgs, outputTarget, SEGMENT_NAME, type LiveHlsArgs } from './ffmpeg-args';
import { fileSampleCount, topLevelBoxes, videoTrackId } from './fmp4';
import { salvageJournal } from './journal';
import { parseMediaPlaylist, renderLivePlaylist, type LiveSegment } from './playlist';
import { waitUntilBound } from './ports';
import { sendRtcpBye } from './rtcp';

const logger = createLogger('recorder').child({ module: 'Rendition' });

export interface RenditionOptions {
  /** The rendition's id (`r0`...): logs only. */
  id: string;
  /** The SDP FFmpeg reads (`buildSdp`); its m= ports are what FFmpeg binds. */
  sdp: string;
  /** Directory for the SDP, FFmpeg's playlists, the init and media segments (created if missing). */
  workDir: string;
  /**
   * Asks the host for a key frame on this rendition's video (the node's `requestKeyFrame` on the
   * consumer). Copied H.264 can only be cut at a key frame, and a browser sends one only when asked.
   */
  requestKeyFrame: () => Promise<void>;
  /** Segment (chunk) length in seconds (default RECORDING_CHUNK_SECONDS, 30). */
  segmentSeconds?: number;
  /** Number of the first segment (default 0): a recorder that restarts continues its numbering. */
  startIndex?: number;
  /** Number of the first FFmpeg run (default 0): names the init segment `init-<run>.mp4`. */
  firstRun?: number;
  /** FFmpeg binary (default `ffmpeg`). */
  ffmpegPath?: string;
  /** AAC bitrate (default 128 kbit/s). */
  audioBitrateKbps?: number;
  /** Ask for the key frame this long before a segment boundary (default 0 ms: see #scheduleKeyFrame). */
  keyFrameLeadMs?: number;
  /** Ask again this often until the segment is cut, and at start until FFmpeg writes (default 500 ms). */
  keyFrameRetryMs?: number;
  /** After SIGINT, FFmpeg is killed if it has not exited within this time (default 5000 ms). */
  stopTimeoutMs?: number;
  /**
   * Also write the live low-latency HLS (liveFiles in ffmpeg-args.ts). Copied H.264 is cut only at
   * key frames, so the host is then asked for one every `liveHls.segmentSeconds` instead of once
   * per chunk (the chunks are cut on those same key frames).
   */
  liveHls?: LiveHlsArgs;
}

/** A run's init segment, complete: the segments of that run decode with it. */
export interface InitSegment {
  run: number;
  path: string;
  bytes: number;
}

/** A complete media segment (chunk), ready to be uploaded. */
export interface MediaSegment {
  /** Monotonic across FFmpeg runs. */
  index: number;
  run: number;
  path: string;
  durationSec: number;
  bytes: number;
  /**
   * First segment of a run after another run: it comes with a new init segment, and its
   * timestamps do not continue the previous run's. After an FFmpeg crash, the chunk salvaged from
   * the dead run's journal is one (it continues the media), the new FFmpeg's first chunk the next
   * (media before it is missing: the time the new FFmpeg took to start).
   */
  discontinuity: boolean;
  /** The last segment of the recording (flushed by stop()). */
  final: boolean;
}

export interface RunEvent {
  run: number;
  pid: number | undefined;
  /** Milliseconds since this run's FFmpeg was spawned. */
  afterMs: number;
}

export interface DiscontinuityEvent {
  /** The run that died and the one that replaces it. */
  previousRun: number;
  run: number;
  /** The run number and index the chunk salvaged from the dead run's journal gets, if any. */
  salvage: { run: number; index: number };
  reason: string;
  /** When the new FFmpeg starts (0 unless FFmpeg keeps dying right after start). */
  restartInMs: number;
}

export interface RenditionEvents {
  /** FFmpeg has bound its RTP/RTCP ports: packets sent now reach it. */
  listening: [RunEvent];
  /** FFmpeg has probed its input (it had a key frame) and is writing. */
  started: [RunEvent];
  init: [InitSegment];
  segment: [MediaSegment];
  /** FFmpeg exited without being asked; a new run starts after `restartInMs`. */
  discontinuity: [DiscontinuityEvent];
  close: [{ reason: 'stopped' | 'closed' }];
}

/** What the emitted segments of one run (an FFmpeg's, or a salvage's) have told so far. */
interface Listing {
  number: number;
  startIndex: number;
  /** Segments of this run emitted so far (= cuts FFmpeg made). */
  listed: number;
  /** Media time (s, run-relative) at the end of the last emitted segment. */
  mediaEnd: number;
  /** Video samples in the emitted segments (NaN once one could not be counted). */
  videoSamples: number;
  /** Latest correspondence between the run's media time (s) and the wall clock (ms). */
  clock: { media: number; wall: number } | undefined;
  /** When the key frame for the next boundary was last asked for. */
  boundaryAskedAt: number | undefined;
  /** With the live HLS: the last boundary (media time, s) a key frame was asked for. */
  liveAskedAt?: number;
}

interface Run extends Listing {
  command: ffmpeg.FfmpegCommand;
  spawnedAt: number;
  pid: number | undefined;
  started: boolean;
  exited: boolean;
  exit: Promise<void>;
  stderrTail: string[];
  abort: AbortController;
}

type State = 'running' | 'stopping' | 'closed';

const listing = (number: number, startIndex: number): Listing => ({
  number, startIndex, listed: 0, mediaEnd: 0, videoSamples: 0, clock: undefined, boundaryAskedAt: undefined,
});

const QUICK_FAILURE_MS = 10_000;
/** stop(): how long FFmpeg gets to act on its SIGINT before its input is ended with RTCP BYEs. */
const BYE_AFTER_MS = 250;

/**
 * One rendition of a live recording: one FFmpeg at a time reading the SDP, copying H.264 and
 * transcoding Opus to AAC into HLS with fMP4 segments in `workDir`, handing each segment over
 * (`segment` event) as soon as it is complete.
 *
 * Completion comes from the playlist FFmpeg rewrites for its run, not from its logs: hlsenc lists
 * a segment only after closing it, and with `temp_file` it renames the segment from `.tmp` before
 * rewriting the playlist (itself renamed into place), so whatever the playlist lists is whole, and
 * it carries the exact duration. The log line "Opening 'seg-N.m4s' for writing" says only that the
 * next segment began, with no duration, and is a format meant for humans.
 *
 * When FFmpeg exits unexpectedly, the segments it listed are emitted, a `discontinuity` is
 * announced and a new run starts at once (after quick repeated failures, with a backoff capped at
 * 2 s), numbering on (`-start_number`) with its own init segment. Meanwhile the segment that was
 * in progress is salvaged from the dead run's journal (journal.ts) and emitted as a run of its
 * own. What is lost is the last half second before the kill (the journal's flush interval) and the
 * time the new FFmpeg takes to start.
 *
 * Create the consumers paused, and resume them once start() resolved (FFmpeg is listening): the
 * resume's key frame is the one FFmpeg starts from. A paused consumer ignores key frame requests.
 */
export class Rendition extends SafeEmitter<RenditionEvents> {
  readonly #o: Required<Omit<RenditionOptions, 'firstRun' | 'startIndex' | 'liveHls'>> & Pick<RenditionOptions, 'liveHls'>;
  /** RTP and RTCP ports of every stream, in SDP order: rtp0, rtcp0, rtp1, rtcp1... */
  readonly #ports: number[];
  /** Where FFmpeg receives (the SDP's c= address). */
  readonly #ip: string;
  readonly #segments: (MediaSegment & { initUri: string })[] = [];
  #state: State = 'running';
  #run: Run | undefined;
  #nextRun: number;
  #nextIndex: number;
  #quickFailures = 0;
  #keyFrameTimer: NodeJS.Timeout | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #scanning: Promise<void> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  /** start() waiting for the first FFmpeg to listen. */
  #startup: { resolve: () => void; reject: (err: Error) => void } | undefined;
  /** Key frame requests made so far. */
  keyFrameRequests = 0;

  private constructor(options: RenditionOptions) {
    super(logger);
    const segmentSeconds = options.segmentSeconds ?? RECORDING_CHUNK_SECONDS;
    if (!(segmentSeconds > 0)) throw new TypeError(`bad segmentSeconds ${segmentSeconds}`);
    this.#o = {
      id: options.id,
      sdp: options.sdp,
      workDir: options.workDir,
      requestKeyFrame: options.requestKeyFrame,
      segmentSeconds,
      ffmpegPath: options.ffmpegPath ?? 'ffmpeg',
      audioBitrateKbps: options.audioBitrateKbps ?? 128,
      keyFrameLeadMs: options.keyFrameLeadMs ?? 0,
      keyFrameRetryMs: options.keyFrameRetryMs ?? 500,
      stopTimeoutMs: options.stopTimeoutMs ?? 5000,
      liveHls: options.liveHls,
    };
    this.#ports = [...options.sdp.matchAll(/^m=\w+ (\d+) /gm)].flatMap((m) => [Number(m[1]), Number(m[1]) + 1]);
    if (this.#ports.length === 0) throw new TypeError('the SDP has no m= line');
    this.#ip = /^c=IN IP[46] (\S+)/m.exec(options.sdp)?.[1] ?? '127.0.0.1';
    this.#nextRun = options.firstRun ?? 0;
    this.#nextIndex = options.startIndex ?? 0;
  }

  /**
   * Writes the SDP, starts FFmpeg and resolves once it listens on its ports (or after 2 s if that
   * cannot be seen: no /proc here). FFmpeg's later failures restart it; they do not reject.
   */
  static async start(options: RenditionOptions): Promise<Rendition> {
    const rendition = new Rendition(options);
    await mkdir(options.workDir, { recursive: true });
    for (const dir of rendition.#liveDirs()) await mkdir(dir, { recursive: true });
    await writeFile(join(options.workDir, files.sdp), options.sdp);
    rendition.#watch();
    try {
      await new Promise<void>((resolve, reject) => {
        rendition.#startup = { resolve, reject };
        rendition.#spawn().catch(reject);
      });
    } catch (err) {
      rendition.close();
      throw err;
    }
    return rendition;
  }

  get id(): string {
    return this.#o.id;
  }

  /** The live HLS this rendition writes, if it does. */
  get liveHls(): LiveHlsArgs | undefined {
    return this.#o.liveHls;
  }

  /** Where a run's live HLS playlist of `track` is (its segments beside it). */
  livePlaylistPath(track: 'video' | 'audio', run: number): string {
    return join(this.#o.workDir, liveFiles.playlist(track, run));
  }

  /** The work directory's live HLS directories (none when it writes no live HLS). */
  #liveDirs(): string[] {
    const live = this.#o.liveHls;
    if (!live) return [];
    return (live.audio ? ['video', 'audio'] as const : ['video'] as const).map((track) => join(this.#o.workDir, liveFiles.dir(track)));
  }

  /** Where this rendition's FFmpeg writes (its owner removes it once everything is uploaded). */
  get workDir(): string {
    return this.#o.workDir;
  }

  get closed(): boolean {
    return this.#state === 'closed';
  }

  /** The current run's number and FFmpeg pid (undefined between runs). */
  get run(): { number: number; pid: number | undefined } | undefined {
    const run = this.#run;
    return run && !run.exited ? { number: run.number, pid: run.pid } : undefined;
  }

  /** Index the next segment will have. */
  get nextIndex(): number {
    return this.#nextIndex;
  }

  /** Every segment emitted so far, in order. */
  get segments(): readonly MediaSegment[] {
    return this.#segments;
  }

  /** The live HLS playlist over every run so far (URIs relative to the work directory). */
  playlist(): string {
    return renderLivePlaylist({
      segments: this.#segments.map((s): LiveSegment => ({ uri: files.segment(s.index), durationSec: s.durationSec, initUri: s.initUri })),
      segmentSeconds: this.#o.segmentSeconds,
      firstIndex: this.#segments[0]?.index ?? this.#nextIndex,
      ended: this.#state === 'closed' && this.#stopping !== undefined,
    });
  }

  /**
   * Ends the recording: one SIGINT, FFmpeg flushes the segment in progress as the final one and
   * exits (a second SIGINT would truncate its playlist: never sent). Resolves after the final
   * segments were emitted and `close` was.
   */
  stop(): Promise<void> {
    if (this.#stopping) return this.#stopping;
    if (this.#state === 'closed') return Promise.resolve();
    this.#state = 'stopping';
    this.#stopping = (async () => {
      clearTimeout(this.#keyFrameTimer);
      clearTimeout(this.#restartTimer);
      const run = this.#run;
      if (run && !run.exited) {
        run.abort.abort();
        run.command.kill('SIGINT');
        // FFmpeg acts on the SIGINT at its next packet. Without packets (the host left) it never
        // would: RTCP BYEs then end its input (see rtcp.ts). Not at once: ending the input flushes
        // the frame being received, which may be incomplete; the SIGINT path leaves it out.
        const bye = setTimeout(() => {
          sendRtcpBye(this.#ip, this.#ports.filter((_, i) => i % 2 === 1)).catch((err: unknown) => logger.warn({ rendition: this.id, err }, 'cannot send RTCP BYE'));
        }, BYE_AFTER_MS);
        const kill = setTimeout(() => {
          logger.warn({ rendition: this.id, run: run.number }, 'FFmpeg did not exit after SIGINT: killing it');
          run.command.kill('SIGKILL');
        }, this.#o.stopTimeoutMs);
        await run.exit;
        clearTimeout(bye);
        clearTimeout(kill);
      }
      if (run) await this.#scan(run, true);
      if (run) await rm(join(this.#o.workDir, files.journal(run.number)), { force: true });
      this.#finish('stopped');
    })();
    return this.#stopping;
  }

  /**
   * Resolves once this rendition's FFmpeg has exited (at once when none runs). After close() or
   * stop(): its ports are free again.
   */
  get exited(): Promise<void> {
    return this.#run?.exit ?? Promise.resolve();
  }

  /** Kills FFmpeg without flushing (the segment in progress is lost). Twice does nothing. */
  close(): void {
    if (this.#state === 'closed') return;
    const run = this.#run;
    if (run && !run.exited) {
      run.abort.abort();
      run.command.kill('SIGKILL');
    }
    this.#finish('closed');
  }

  #finish(reason: 'stopped' | 'closed'): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#keyFrameTimer);
    clearTimeout(this.#restartTimer);
    clearInterval(this.#pollTimer);
    this.#watcher?.close();
    logger.info({ rendition: this.id, reason, segments: this.#segments.length }, 'rendition closed');
    this.safeEmit('close', { reason });
  }

  /** FFmpeg renames its playlist into place after each cut; a slow poll covers missed events. */
  #watch(): void {
    try {
      this.#watcher = watch(this.#o.workDir, (_event, name) => {
        const run = this.#run;
        if (run && name === files.runPlaylist(run.number)) void this.#scan(run);
      });
      this.#watcher.on('error', (err) => logger.warn({ rendition: this.id, err }, 'cannot watch the work directory'));
    } catch (err) {
      logger.warn({ rendition: this.id, err }, 'cannot watch the work directory: polling only');
    }
    this.#pollTimer = setInterval(() => {
      if (this.#run) void this.#scan(this.#run);
    }, 1000);
  }

  async #spawn(): Promise<void> {
    if (this.#state !== 'running') return;
    // A killed run leaves its segment in progress (and maybe a playlist) as `.tmp`: never complete.
    for (const dir of [this.#o.workDir, ...this.#liveDirs()]) {
      const stale = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.tmp'));
      await Promise.all(stale.map((f) => rm(join(dir, f), { force: true })));
    }
    // fluent-ffmpeg 2.1.3 throws from its ChildProcess 'error' handler when spawning fails (it reads
    // the stderr ring it never made): an uncaught exception. So FFmpeg must be known runnable first.
    if (!(await isExecutable(this.#o.ffmpegPath))) throw new Error(`FFmpeg not found or not executable: ${this.#o.ffmpegPath}`);
    if (this.#state !== 'running') return;
    const number = this.#nextRun++;
    const args = {
      run: number, startIndex: this.#nextIndex, segmentSeconds: this.#o.segmentSeconds, audioBitrateKbps: this.#o.audioBitrateKbps,
      audioInputs: (this.#o.sdp.match(/^m=audio /gm) ?? []).length, ...(this.#o.liveHls ? { liveHls: this.#o.liveHls } : {}),
    };
    // In the work directory: the output names are relative (see ffmpeg-args.ts, hlsOptions).
    const command = ffmpeg(join(this.#o.workDir, files.sdp), { cwd: this.#o.workDir })
      .setFfmpegPath(this.#o.ffmpegPath)
      .inputOptions(inputArgs())
      .outputOptions(outputArgs(args))
      .output(outputTarget(args));
    let exited!: () => void;
    const run: Run = {
      ...listing(number, this.#nextIndex), command, spawnedAt: performance.now(), pid: undefined, started: false, exited: false,
      exit: new Promise<void>((resolve) => (exited = resolve)), stderrTail: [], abort: new AbortController(),
    };
    this.#run = run;
    const event = (): RunEvent => ({ run: number, pid: run.pid, afterMs: Math.round(performance.now() - run.spawnedAt) });
    command.on('start', (commandLine: string) => {
      run.pid = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc?.pid;
      // stop() or close() came while fluent-ffmpeg was still preparing: there was nothing to signal.
      if (this.#state !== 'running') {
        command.kill(this.#state === 'stopping' ? 'SIGINT' : 'SIGKILL');
        return;
      }
      logger.info({ rendition: this.id, run: number, pid: run.pid, startIndex: run.startIndex }, 'FFmpeg spawned');
      logger.debug({ rendition: this.id, commandLine }, 'FFmpeg command line');
      void this.#whenListening(run, event);
    });
    command.on('codecData', () => {
      run.started = true;
      run.clock = { media: 0, wall: Date.now() };
      logger.info({ rendition: this.id, ...event() }, 'FFmpeg started writing');
      this.safeEmit('started', event());
      this.#scheduleKeyFrame(run);
    });
    command.on('progress', (progress: { timemark?: string }) => {
      const media = timemarkSeconds(progress.timemark);
      if (media === undefined || !run.started) return;
      run.clock = { media, wall: Date.now() };
      this.#scheduleKeyFrame(run);
    });
    command.on('stderr', (line: string) => {
      if (/^(frame|size)=/.test(line.trim())) return;
      run.stderrTail.push(line);
      if (run.stderrTail.length > 20) run.stderrTail.shift();
    });
    const onExit = (err?: Error) => {
      run.exited = true;
      run.abort.abort();
      exited();
      void this.#exited(run, err);
    };
    command.on('error', (err: Error) => onExit(err));
    command.on('end', () => onExit());
    command.run();
  }

  /** Waits for FFmpeg's sockets, announces it, and asks for key frames until FFmpeg writes. */
  async #whenListening(run: Run, event: () => RunEvent): Promise<void> {
    const seen = await waitUntilBound(this.#ports, 2000, { pid: run.pid, signal: run.abort.signal });
    if (run.exited || this.#run !== run || this.#state !== 'running') return;
    if (!seen) logger.warn({ rendition: this.id, run: run.number, ports: this.#ports }, 'cannot see FFmpeg listen: going on');
    this.safeEmit('listening', event());
    this.#startup?.resolve();
    this.#startup = undefined;
    const ask = () => {
      if (run.exited || run.started || this.#state !== 'running') return;
      this.#askKeyFrame('start');
      this.#keyFrameTimer = setTimeout(ask, this.#o.keyFrameRetryMs);
    };
    ask();
  }

  /**
   * FFmpeg cuts segment k at the first key frame at or after k × segmentSeconds of the run's media
   * time. The media clock is anchored on FFmpeg's progress lines (`time=`) and on each cut (the
   * summed durations), and runs with the wall clock in between. At the boundary (minus the lead)
   * the key frame is asked for; until the cut shows up, again every keyFrameRetryMs. Asking
   * exactly at the boundary rather than before: a key frame arriving before the boundary does not
   * cut and is wasted (the segment then waits for the retry), one arriving a little after costs
   * only that little (the key frame's round trip, ~0.1 s).
   */
  #scheduleKeyFrame(run: Run): void {
    clearTimeout(this.#keyFrameTimer);
    if (this.#state !== 'running' || run !== this.#run || run.exited || !run.started || !run.clock) return;
    if (this.#o.liveHls) return this.#scheduleLiveKeyFrame(run, run.clock, this.#o.liveHls.segmentSeconds);
    const boundary = (run.listed + 1) * this.#o.segmentSeconds;
    const due = run.boundaryAskedAt !== undefined
      ? run.boundaryAskedAt + this.#o.keyFrameRetryMs
      : run.clock.wall + (boundary - run.clock.media) * 1000 - this.#o.keyFrameLeadMs;
    const listed = run.listed;
    this.#keyFrameTimer = setTimeout(() => {
      // The playlist first: a cut whose file event was missed must not cost a key frame.
      void this.#scan(run).then(() => {
        if (run.listed !== listed || run.exited || this.#state !== 'running') return;
        run.boundaryAskedAt = Date.now();
        this.#askKeyFrame('boundary');
        this.#scheduleKeyFrame(run);
      });
    }, Math.max(0, due - Date.now()));
  }

  /**
   * With the live HLS: a key frame at every multiple of `step` of the run's media time (each cut of
   * the live HLS, and so of the chunks too), asked for at the boundary. No retries: a request that
   * is lost costs one longer segment, and the next boundary is a step away. `liveAskedAt` (the last
   * boundary asked for) keeps a boundary from being skipped when the clock is re-anchored just
   * after it, before its timer fired.
   */
  #scheduleLiveKeyFrame(run: Run, clock: { media: number; wall: number }, step: number): void {
    const mediaNow = clock.media + (Date.now() - clock.wall) / 1000;
    const latestPassed = Math.floor(mediaNow / step) * step;
    // Next after the last one asked; the latest passed (asked at once) when far behind.
    const boundary = Math.max(run.liveAskedAt === undefined ? latestPassed + step : run.liveAskedAt + step, latestPassed);
    const due = clock.wall + (boundary - clock.media) * 1000 - this.#o.keyFrameLeadMs;
    this.#keyFrameTimer = setTimeout(() => {
      if (run.exited || this.#state !== 'running' || run !== this.#run) return;
      run.liveAskedAt = boundary;
      this.#askKeyFrame('boundary');
      this.#scheduleKeyFrame(run);
    }, Math.max(0, due - Date.now()));
  }

  #askKeyFrame(why: 'start' | 'boundary'): void {
    this.keyFrameRequests++;
    logger.debug({ rendition: this.id, why }, 'asking for a key frame');
    this.#o.requestKeyFrame().catch((err: unknown) => logger.warn({ rendition: this.id, why, err }, 'key frame request failed'));
  }

  /** Reads the run's playlist (one reader at a time) and emits what it newly lists. */
  #scan(run: Run, final = false): Promise<void> {
    this.#scanning = this.#scanning.then(() => this.#emitListed(run, { final })).catch((err: unknown) => {
      logger.error({ rendition: this.id, run: run.number, err }, 'cannot read the run playlist');
    });
    return this.#scanning;
  }

  /**
   * Emits what a run's playlist newly lists. While stopping, only the scan after FFmpeg's exit
   * does (`final`: the last segment is marked so), and a salvage (`salvage`), which comes before it.
   */
  async #emitListed(run: Listing, { final = false, salvage = false }: { final?: boolean; salvage?: boolean }): Promise<void> {
    if (this.#state === 'stopping' && !final && !salvage) return;
    let text: string;
    try {
      text = await readFile(join(this.#o.workDir, files.runPlaylist(run.number)), 'utf8');
    } catch {
      return;
    }
    const playlist = parseMediaPlaylist(text);
    const initUri = playlist.map ?? files.init(run.number);
    for (let i = run.listed; i < playlist.segments.length; i++) {
      const listed = playlist.segments[i]!;
      const match = SEGMENT_NAME.exec(listed.uri);
      if (!match) throw new Error(`unexpected segment name ${listed.uri}`);
      const path = join(this.#o.workDir, listed.uri);
      const initPath = join(this.#o.workDir, initUri);
      const [bytes, initBytes] = await Promise.all([fileSize(path), i === 0 ? fileSize(initPath) : 0]);
      if (i === 0) run.videoSamples = await this.#videoSamples(path, initPath);
      else if (!Number.isNaN(run.videoSamples)) run.videoSamples += await this.#videoSamples(path, initPath);
      if (this.#state === 'closed') return;
      if (i === 0) this.safeEmit('init', { run: run.number, path: initPath, bytes: initBytes });
      const index = Number(match[1]);
      if (index !== run.startIndex + i) logger.warn({ rendition: this.id, index, expected: run.startIndex + i }, 'segment numbering jumped');
      this.#nextIndex = Math.max(this.#nextIndex, index + 1);
      run.listed = i + 1;
      run.mediaEnd += listed.durationSec;
      run.clock = { media: run.mediaEnd, wall: Date.now() };
      run.boundaryAskedAt = undefined;
      const segment: MediaSegment = {
        index, run: run.number, path, durationSec: listed.durationSec, bytes,
        discontinuity: i === 0 && this.#segments.length > 0 && run.number !== this.#segments.at(-1)!.run,
        final: final && i === playlist.segments.length - 1,
      };
      this.#segments.push({ ...segment, initUri });
      logger.info({ rendition: this.id, index, run: run.number, durationSec: segment.durationSec, bytes }, 'segment complete');
      this.safeEmit('segment', segment);
    }
    if (this.#run === run) this.#scheduleKeyFrame(this.#run);
  }

  /** Video samples in a segment (the salvage's measure of where a run's chunks end); NaN if unknown. */
  async #videoSamples(segment: string, init: string): Promise<number> {
    try {
      const moov = (await topLevelBoxes(init, ['moov'])).find((b) => b.type === 'moov')?.data;
      const track = moov && videoTrackId(moov);
      return track === undefined ? Number.NaN : await fileSampleCount(segment, track);
    } catch (err) {
      logger.warn({ rendition: this.id, segment, err }, 'cannot count the video samples of a segment');
      return Number.NaN;
    }
  }

  /**
   * The dead run's segment in progress, from its journal, emitted as a run of its own; after the
   * dead run's segments (one reader at a time), before the new run's. The journal goes either way.
   */
  #salvage(dead: Run, to: { run: number; index: number }): Promise<void> {
    const journal = join(this.#o.workDir, files.journal(dead.number));
    this.#scanning = this.#scanning.then(async () => {
      const startedAt = performance.now();
      if (Number.isNaN(dead.videoSamples) || this.#state === 'closed') return;
      const salvaged = await salvageJournal({ workDir: this.#o.workDir, journal, videoSamplesBefore: dead.videoSamples, ...to, ffmpegPath: this.#o.ffmpegPath });
      if (!salvaged) {
        logger.warn({ rendition: this.id, run: dead.number }, 'nothing to salvage from the journal');
        return;
      }
      await this.#emitListed(listing(to.run, to.index), { salvage: true });
      logger.info({ rendition: this.id, run: dead.number, videoSamples: salvaged.samples, ms: Math.round(performance.now() - startedAt) }, 'salvaged the segment in progress from the journal');
    }).catch((err: unknown) => {
      logger.error({ rendition: this.id, run: dead.number, err }, 'cannot salvage the segment in progress');
    }).finally(() => Promise.all([journal, join(this.#o.workDir, files.salvage(to.run))].map((f) => rm(f, { force: true }))));
    return this.#scanning;
  }

  async #exited(run: Run, err: Error | undefined): Promise<void> {
    if (this.#run !== run || this.#state !== 'running') return;
    clearTimeout(this.#keyFrameTimer);
    const lived = performance.now() - run.spawnedAt;
    const reason = `${err?.message.split('\n')[0] ?? 'FFmpeg exited'}${run.stderrTail.length ? ` (${run.stderrTail.at(-1)?.trim()})` : ''}`;
    logger.error({ rendition: this.id, run: run.number, pid: run.pid, livedMs: Math.round(lived), reason, stderr: run.stderrTail }, 'FFmpeg exited unexpectedly');
    if (this.#startup) {
      // The first FFmpeg never listened (bad binary, port taken, bad SDP): start() fails.
      this.#startup.reject(new Error(`FFmpeg exited before listening: ${reason}`));
      this.#startup = undefined;
      return;
    }
    // Whatever it completed before dying is kept.
    await this.#scan(run);
    if (this.#state !== 'running') return;
    this.#quickFailures = lived < QUICK_FAILURE_MS || !run.started ? this.#quickFailures + 1 : 0;
    const restartInMs = this.#restartDelay();
    // The salvage gets the next run number and index whether or not it finds anything: the new
    // FFmpeg starts now, not after it.
    const salvage = { run: this.#nextRun++, index: this.#nextIndex++ };
    this.safeEmit('discontinuity', { previousRun: run.number, run: this.#nextRun, salvage, reason, restartInMs });
    this.#restartIn(restartInMs);
    void this.#salvage(run, salvage);
  }

  /** At once after a crash; after repeated quick failures 250 ms, doubling up to 2 s. */
  #restartDelay(): number {
    return this.#quickFailures <= 1 ? 0 : Math.min(2000, 250 * 2 ** (this.#quickFailures - 2));
  }

  #restartIn(ms: number): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#spawn().catch((err: unknown) => {
        // Not even spawned (no executable FFmpeg): try again later, for as long as the live lasts.
        logger.error({ rendition: this.id, err }, 'cannot restart FFmpeg');
        this.#quickFailures++;
        if (this.#state === 'running') this.#restartIn(this.#restartDelay());
      });
    }, ms);
  }
}

function timemarkSeconds(timemark: string | undefined): number | undefined {
  const m = /^(-)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(timemark ?? '');
  if (!m) return undefined;
  const s = Number(m[2]) * 3600 + Number(m[3]) * 60 + Number(m[4]);
  return m[1] ? -s : s;
}

/** A path with a slash, or a name found on PATH, that this process may execute. */
async function isExecutable(command: string): Promise<boolean> {
  const candidates = command.includes('/') ? [command] : (process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return true;
    } catch {
      // next
    }
  }
  return false;
}

async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}
