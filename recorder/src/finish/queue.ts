import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { SafeEmitter } from '@podlive/shared/emitter';

/**
 * What finishes one session's recording, with the token it reports with (the control plane's,
 * given in the stop command: the recorder signs nothing); throwing makes the queue retry it later.
 */
export type FinishProcessor = (sessionId: string, reportToken: string) => Promise<void>;

/** A pending job as kept (in Redis, or in the in-process queue's file). */
interface FinishJob {
  sessionId: string;
  reportToken: string;
}

/** What a finishing queue tells about the jobs this recorder runs (for watching: metrics). */
export interface FinishQueueEvents {
  /** One run of a job ended (`ok`, or it threw and is retried while attempts remain), after `seconds`. */
  attempt: [{ ok: boolean; seconds: number }];
  /** A job is done with: finished (`ok`), or failed for good after its last attempt (`failed`). */
  settled: [{ result: 'ok' | 'failed' }];
}

export interface FinishJobCounts {
  /** Jobs waiting to run: new, or between attempts. With BullMQ, the whole fleet's. */
  queued: number;
  /** Jobs running on this recorder. */
  running: number;
}

/**
 * The finishing jobs of ended lives: one job per session (adding it twice while it waits is one
 * job), retried with exponential backoff, kept across a recorder restart. BullMQ on Redis when
 * REDIS_URL is set (any recorder of the fleet may run it); otherwise an in-process queue with the
 * same interface whose pending jobs are kept in a file under the data directory.
 */
export interface FinishQueue {
  readonly kind: 'bullmq' | 'in-process';
  readonly observer: SafeEmitter<FinishQueueEvents>;
  add(sessionId: string, reportToken: string): Promise<void>;
  counts(): Promise<FinishJobCounts>;
  /** Resolves when no job waits or runs (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const FINISH_ATTEMPTS = 6;
export const FINISH_BACKOFF_MS = 1000;
export const FINISH_QUEUE = 'recording-finish';
const QUEUE = FINISH_QUEUE;
/** How long a scrape waits for BullMQ's counts before using the last ones. */
const COUNTS_TIMEOUT_MS = 1000;

/** Runs one attempt of `process`, telling `observer` how it went and `running` how many run. */
async function attempt(observer: SafeEmitter<FinishQueueEvents>, running: { n: number }, process: () => Promise<void>): Promise<void> {
  const startedAt = performance.now();
  running.n++;
  let ok = false;
  try {
    await process();
    ok = true;
  } finally {
    running.n--;
    observer.safeEmit('attempt', { ok, seconds: (performance.now() - startedAt) / 1000 });
  }
}

export async function bullFinishQueue(redisUrl: string, prefix: string, process: FinishProcessor, log: Logger, backoffMs = FINISH_BACKOFF_MS): Promise<FinishQueue> {
  // BullMQ's workers block on Redis: their connection must not give up on a slow command.
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const bullPrefix = `${prefix}bull`;
  const queue = new Queue(QUEUE, { connection, prefix: bullPrefix });
  const observer = new SafeEmitter<FinishQueueEvents>(log);
  const running = { n: 0 };
  const worker = new Worker(QUEUE, (job) => attempt(observer, running, () => process(String(job.data.sessionId), String(job.data.reportToken))), { connection, prefix: bullPrefix, concurrency: 1 });
  worker.on('failed', (job, err) => {
    log.warn({ sessionId: job?.data.sessionId, attempt: job?.attemptsMade, err: err.message }, 'finishing a recording failed');
    // attemptsMade counts this attempt already: the last one means the job is failed for good.
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) observer.safeEmit('settled', { result: 'failed' });
  });
  worker.on('completed', () => observer.safeEmit('settled', { result: 'ok' }));
  await worker.waitUntilReady();
  let queued = 0;
  return {
    kind: 'bullmq',
    observer,
    async add(sessionId, reportToken) {
      // The job id is the session: adding it again while it exists is a no-op.
      await queue.add('finish', { sessionId, reportToken } satisfies FinishJob, {
        jobId: `finish-${sessionId}`, attempts: FINISH_ATTEMPTS, backoff: { type: 'exponential', delay: backoffMs },
        removeOnComplete: true, removeOnFail: 1000,
      });
    },
    async counts() {
      // Asked only while connected (a command to a Redis that is down would wait for it), and not
      // for longer than a scrape should: else the last count stands.
      if (connection.status === 'ready') {
        const counts = queue.getJobCounts('waiting', 'delayed', 'prioritized');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), COUNTS_TIMEOUT_MS)));
        const got = await Promise.race([counts, late]).catch(() => undefined).finally(() => clearTimeout(timer));
        if (got) queued = Object.values(got).reduce((n, x) => n + x, 0);
      }
      return { queued, running: running.n };
    },
    async idle() {
      for (;;) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed');
        if (Object.values(counts).every((n) => n === 0)) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async close() {
      await worker.close();
      await queue.close();
      connection.disconnect();
    },
  };
}

/** The in-process queue: one job at a time, pending jobs written to `file` before they run. */
export async function fileFinishQueue(file: string, process: FinishProcessor, log: Logger, backoffMs = FINISH_BACKOFF_MS): Promise<FinishQueue> {
  const pending: FinishJob[] = await readFile(file, 'utf8').then((text) => JSON.parse(text) as FinishJob[]).catch(() => []);
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  const observer = new SafeEmitter<FinishQueueEvents>(log);
  const running = { n: 0 };
  const save = async () => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(pending));
    await rename(`${file}.tmp`, file);
  };
  const run = (job: FinishJob) => {
    const { sessionId } = job;
    chain = chain.then(async () => {
      if (closed) return;
      try {
        await pRetry(() => attempt(observer, running, () => process(sessionId, job.reportToken)), {
          retries: FINISH_ATTEMPTS - 1, factor: 2, minTimeout: backoffMs,
          onFailedAttempt: ({ error, attemptNumber }) => log.warn({ sessionId, attempt: attemptNumber, err: error.message }, 'finishing a recording failed'),
        });
        observer.safeEmit('settled', { result: 'ok' });
      } catch (err) {
        log.error({ sessionId, err: (err as Error).message }, 'finishing a recording failed for good');
        observer.safeEmit('settled', { result: 'failed' });
      }
      pending.splice(pending.indexOf(job), 1);
      await save();
    });
  };
  // Jobs left by a previous run of the recorder.
  for (const job of pending) run(job);
  return {
    kind: 'in-process',
    observer,
    async add(sessionId, reportToken) {
      if (pending.some((job) => job.sessionId === sessionId)) return;
      const job = { sessionId, reportToken };
      pending.push(job);
      await save();
      run(job);
    },
    async counts() {
      return { queued: pending.length - running.n, running: running.n };
    },
    async idle() {
      while (pending.length > 0) await chain;
    },
    async close() {
      closed = true;
    },
  };
}
