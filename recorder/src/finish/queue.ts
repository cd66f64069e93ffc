import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import pRetry from 'p-retry';
import type { Logger } from 'pino';

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

/**
 * The finishing jobs of ended lives: one job per session (adding it twice while it waits is one
 * job), retried with exponential backoff, kept across a recorder restart. BullMQ on Redis when
 * REDIS_URL is set (any recorder of the fleet may run it); otherwise an in-process queue with the
 * same interface whose pending jobs are kept in a file under the data directory.
 */
export interface FinishQueue {
  readonly kind: 'bullmq' | 'in-process';
  add(sessionId: string, reportToken: string): Promise<void>;
  /** Resolves when no job waits or runs (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export const FINISH_ATTEMPTS = 6;
export const FINISH_BACKOFF_MS = 1000;
export const FINISH_QUEUE = 'recording-finish';
const QUEUE = FINISH_QUEUE;

export async function bullFinishQueue(redisUrl: string, prefix: string, process: FinishProcessor, log: Logger, backoffMs = FINISH_BACKOFF_MS): Promise<FinishQueue> {
  // BullMQ's workers block on Redis: their connection must not give up on a slow command.
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const bullPrefix = `${prefix}bull`;
  const queue = new Queue(QUEUE, { connection, prefix: bullPrefix });
  const worker = new Worker(QUEUE, async (job) => process(String(job.data.sessionId), String(job.data.reportToken)), { connection, prefix: bullPrefix, concurrency: 1 });
  worker.on('failed', (job, err) => log.warn({ sessionId: job?.data.sessionId, attempt: job?.attemptsMade, err: err.message }, 'finishing a recording failed'));
  await worker.waitUntilReady();
  return {
    kind: 'bullmq',
    async add(sessionId, reportToken) {
      // The job id is the session: adding it again while it exists is a no-op.
      await queue.add('finish', { sessionId, reportToken } satisfies FinishJob, {
        jobId: `finish-${sessionId}`, attempts: FINISH_ATTEMPTS, backoff: { type: 'exponential', delay: backoffMs },
        removeOnComplete: true, removeOnFail: 1000,
      });
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
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const save = async () => {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(pending));
    await rename(`${file}.tmp`, file);
  };
  const run = (job: FinishJob) => {
    const { sessionId } = job;
    running = running.then(async () => {
      if (closed) return;
      try {
        await pRetry(() => process(sessionId, job.reportToken), {
          retries: FINISH_ATTEMPTS - 1, factor: 2, minTimeout: backoffMs,
          onFailedAttempt: ({ error, attemptNumber }) => log.warn({ sessionId, attempt: attemptNumber, err: error.message }, 'finishing a recording failed'),
        });
      } catch (err) {
        log.error({ sessionId, err: (err as Error).message }, 'finishing a recording failed for good');
      }
      pending.splice(pending.indexOf(job), 1);
      await save();
    });
  };
  // Jobs left by a previous run of the recorder.
  for (const job of pending) run(job);
  return {
    kind: 'in-process',
    async add(sessionId, reportToken) {
      if (pending.some((job) => job.sessionId === sessionId)) return;
      const job = { sessionId, reportToken };
      pending.push(job);
      await save();
      run(job);
    },
    async idle() {
      while (pending.length > 0) await running;
    },
    async close() {
      closed = true;
    },
  };
}
