import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pRetry, { AbortError } from 'p-retry';
import { createStorage, type Storage } from '@podlive/storage';
import { createLogger } from '@podlive/shared/logger';
import type { RecorderStartBody } from '@podlive/shared/recording';
import type { RecorderConfig } from './config';
import { killOrphanFfmpegs } from './capture/orphans';
import { warmFfmpeg } from './ffmpeg';
import { finishRecording } from './finish/finish-job';
import { bullFinishQueue, fileFinishQueue, type FinishQueue } from './finish/queue';
import type { RouterCodec } from './capture/sdp';
import { FLEET_ROUTER_CODECS } from './live/armed';
import { LiveRecording } from './live/LiveRecording';
import { ManifestStore, readManifest } from './live/manifest';
import { RecorderMetrics } from './metrics';
import { exposeMetrics, type MetricsListener } from './metrics-endpoint';

const logger = createLogger('recorder').child({ module: 'Recorder' });

/** How long the recorder keeps trying to join a live whose host has not reached the origin yet. */
const JOIN_RETRIES = 12;

/**
 * Every live this recorder records, and the queue that finishes them. The lives being recorded
 * are also written to a file, so a restarted recorder resumes them (numbering on from the manifest
 * in storage); a live that ended meanwhile is closed and queued for finishing. Its metrics are
 * served at `metricsAddress` (/metrics) from its start to its close.
 */
export class Recorder {
  readonly #live = new Map<string, { body: RecorderStartBody; recording: Promise<LiveRecording | undefined>; abort: AbortController }>();
  readonly #activeFile: string;
  readonly #routerCodecsFile: string;
  /** The codecs of the last router joined (every router of a fleet is made alike), kept across restarts; the fleet's before any. */
  #routerCodecs: readonly RouterCodec[] = FLEET_ROUTER_CODECS;
  #codecsWritten: Promise<void> = Promise.resolve();
  #queue!: FinishQueue;
  /** The recordings made and not stopped or abandoned yet (what the metrics count). */
  readonly #recordings = new Set<LiveRecording>();
  readonly metrics: RecorderMetrics;
  #metricsListener!: MetricsListener;
  #closing: Promise<void> | undefined;

  private constructor(
    readonly config: RecorderConfig,
    readonly storage: Storage,
  ) {
    this.#activeFile = join(config.RECORDER_WORK_DIR, 'active.json');
    this.#routerCodecsFile = join(config.RECORDER_WORK_DIR, 'router-codecs.json');
    const running = () => [...this.#recordings].map((r) => r.running);
    const sum = (key: 'renditions' | 'consumers' | 'open') => running().reduce((n, r) => n + r[key], 0);
    this.metrics = new RecorderMetrics({
      lives: () => this.#recordings.size,
      renditions: () => sum('renditions'),
      renditionsOpen: () => sum('open'),
      consumers: () => sum('consumers'),
      finishJobs: () => this.#queue.counts(),
    });
  }

  static async create(config: RecorderConfig, storage: Storage = createStorage(config.storage)): Promise<Recorder> {
    const recorder = new Recorder(config, storage);
    const finish = (sessionId: string, reportToken: string) => finishRecording(sessionId, {
      storage, reportToken, serverUrl: config.SERVER_URL, ffmpegPath: config.FFMPEG_PATH,
    }).then(() => undefined);
    recorder.#queue = config.REDIS_URL
      ? await bullFinishQueue(config.REDIS_URL, config.REDIS_PREFIX, finish, logger)
      : await fileFinishQueue(join(config.RECORDER_WORK_DIR, 'finish-jobs.json'), finish, logger);
    recorder.#queue.observer.on('attempt', ({ ok, seconds }) => recorder.metrics.finishAttempt(ok, seconds));
    recorder.#queue.observer.on('settled', ({ result }) => recorder.metrics.finishSettled(result));
    try {
      recorder.#metricsListener = await exposeMetrics(recorder.metrics.registry, config);
    } catch (err) {
      await recorder.#queue.close();
      throw err;
    }
    await clearLeftovers(config.RECORDER_WORK_DIR);
    await warmFfmpeg(config.FFMPEG_PATH);
    recorder.#routerCodecs = await readFile(recorder.#routerCodecsFile, 'utf8').then((t) => JSON.parse(t) as RouterCodec[]).catch(() => FLEET_ROUTER_CODECS);
    const active = await readFile(recorder.#activeFile, 'utf8').then((t) => JSON.parse(t) as RecorderStartBody[]).catch(() => []);
    for (const body of active) recorder.#begin(body, true);
    return recorder;
  }

  get queue(): FinishQueue {
    return this.#queue;
  }

  /** RECORDER_ID: the `instance` its metrics are announced as. */
  get id(): string {
    return this.config.RECORDER_ID;
  }

  /** host:port its Prometheus metrics are scraped at (`GET /metrics`). */
  get metricsAddress(): string {
    return this.#metricsListener.address;
  }

  /** Sessions being recorded. */
  get sessions(): string[] {
    return [...this.#live.keys()];
  }

  recording(sessionId: string): Promise<LiveRecording | undefined> | undefined {
    return this.#live.get(sessionId)?.recording;
  }

  /** Records a live (or follows it to a new origin). */
  async start(body: RecorderStartBody): Promise<void> {
    const current = this.#live.get(body.sessionId);
    if (current) {
      current.body = body;
      await this.#saveActive();
      const recording = await current.recording;
      await recording?.moveTo(body.node);
      return;
    }
    this.#begin(body, false);
    await this.#saveActive();
  }

  /**
   * The live ended: flush, upload, queue the finishing job (it reports with `reportToken`, the
   * control plane's). Stopping an unknown live still queues it.
   */
  async stop(sessionId: string, reportToken: string): Promise<void> {
    const entry = this.#live.get(sessionId);
    this.#live.delete(sessionId);
    await this.#saveActive();
    entry?.abort.abort();
    const recording = await entry?.recording;
    if (recording) {
      await recording.stop();
      this.#recordings.delete(recording);
    } else if (!(await this.#closeManifest(sessionId))) return;
    await this.#queue.add(sessionId, reportToken);
  }

  /**
   * Goes down without flushing (a restarted recorder resumes): resolves once no FFmpeg of its
   * lives runs and its metrics are no longer served. Twice does nothing more.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const entry of this.#live.values()) entry.abort.abort();
      await Promise.all([...this.#live.values()].map((e) => e.recording.then((r) => r?.abandon()).catch(() => undefined)));
      this.#recordings.clear();
      await this.#queue.close();
      await this.#metricsListener.close();
    })();
    return this.#closing;
  }

  #begin(body: RecorderStartBody, resumed: boolean): void {
    const abort = new AbortController();
    const recording = (async () => {
      const manifest = resumed ? ((await readManifest(this.storage, body.sessionId)) ?? undefined) : undefined;
      // Armed at once on the codecs of the last router joined: FFmpeg starts while the host connects.
      const live = LiveRecording.create({
        start: body, storage: this.storage, workDir: this.config.RECORDER_WORK_DIR,
        segmentSeconds: this.config.RECORDER_CHUNK_SECONDS, ffmpegPath: this.config.FFMPEG_PATH, ...(manifest ? { manifest } : {}),
        routerCodecs: this.#routerCodecs,
        onRouterCodecs: (codecs) => this.#learnRouterCodecs(codecs),
        metrics: this.metrics,
      });
      this.#recordings.add(live);
      try {
        // The control plane calls as the live starts: the host may reach the origin a moment later
        // (the node lets the recorder wait for the room a while, SFU_RECORDER_WAIT_MS).
        await pRetry(
          () => {
            if (abort.signal.aborted) throw new AbortError('stopped');
            // Where the live is now: a start command for a new origin may have come meanwhile.
            return live.join(this.#live.get(body.sessionId)?.body.node ?? body.node);
          },
          { retries: JOIN_RETRIES, minTimeout: 250, maxTimeout: 5000, signal: abort.signal },
        );
        return live;
      } catch (err) {
        // Stopped, or the live is not on its origin: nothing recorded, its armed FFmpegs go (a join
        // that completes after its stop is dropped by pRetry: it goes too).
        await live.abandon();
        this.#recordings.delete(live);
        logger.warn({ sessionId: body.sessionId, err: (err as Error).message }, 'could not join the live');
        // A resumed live that is gone ended while the recorder was down: finish what was captured.
        // Not awaited: stop() waits for this very promise (awaiting it here never returned).
        if (resumed && !abort.signal.aborted && this.#live.get(body.sessionId)?.abort === abort) {
          void this.stop(body.sessionId, body.reportToken).catch((e: unknown) => logger.error({ sessionId: body.sessionId, err: (e as Error).message }, 'could not finish a live that ended while the recorder was down'));
        }
        return undefined;
      }
    })();
    this.#live.set(body.sessionId, { body, recording, abort });
    logger.info({ sessionId: body.sessionId, node: body.node.id, resumed }, 'recording');
  }

  /** Marks a stored manifest ended (its recording was not running here); false when there is none. */
  async #closeManifest(sessionId: string): Promise<boolean> {
    const manifest = await readManifest(this.storage, sessionId);
    if (!manifest) return false;
    if (manifest.endedAt === null) await new ManifestStore(this.storage, manifest).end();
    return true;
  }

  #learnRouterCodecs(codecs: RouterCodec[]): void {
    if (JSON.stringify(codecs) === JSON.stringify(this.#routerCodecs)) return;
    this.#routerCodecs = codecs;
    const tmp = `${this.#routerCodecsFile}.tmp`;
    // One write at a time: they share the temporary file.
    this.#codecsWritten = this.#codecsWritten
      .then(() => mkdir(this.config.RECORDER_WORK_DIR, { recursive: true }))
      .then(() => writeFile(tmp, JSON.stringify(codecs)))
      .then(() => rename(tmp, this.#routerCodecsFile))
      .catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'cannot keep the router codecs'));
  }

  async #saveActive(): Promise<void> {
    await mkdir(this.config.RECORDER_WORK_DIR, { recursive: true });
    const tmp = `${this.#activeFile}.tmp`;
    await writeFile(tmp, JSON.stringify([...this.#live.values()].map((e) => e.body)));
    await rename(tmp, this.#activeFile);
  }
}

const SESSION_DIR = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;

/**
 * What a recorder that died left: its FFmpegs (killed), and its lives' work directories. Every
 * chunk it had uploaded is in storage; a chunk it had not is lost either way (a resumed live goes
 * on from the manifest). Only directories named like a session are removed.
 */
async function clearLeftovers(workDir: string): Promise<void> {
  const pids = await killOrphanFfmpegs(workDir);
  if (pids.length > 0) logger.warn({ pids }, 'killed the FFmpegs a previous recorder left running');
  const dirs = (await readdir(workDir, { withFileTypes: true }).catch(() => [])).filter((d) => d.isDirectory() && SESSION_DIR.test(d.name));
  await Promise.all(dirs.map((d) => rm(join(workDir, d.name), { recursive: true, force: true })));
}
