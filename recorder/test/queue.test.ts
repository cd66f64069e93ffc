import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { bullFinishQueue, fileFinishQueue, FINISH_QUEUE, type FinishQueue } from '../src/finish/queue';

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = pino({ level: 'silent' });
const prefix = `podlive-test:${randomBytes(4).toString('hex')}:`;

/** A processor that fails its first `failures` calls per session, and records every call. */
function flaky(failures: number) {
  const calls: string[] = [];
  const done = new Set<string>();
  return {
    calls,
    done,
    process: async (sessionId: string, reportToken: string) => {
      // The job carries the token it reports with.
      if (reportToken !== `report-${sessionId}`) throw new Error(`no report token for ${sessionId}`);
      calls.push(sessionId);
      if (calls.filter((c) => c === sessionId).length <= failures) throw new Error('storage not reachable');
      done.add(sessionId);
    },
  };
}

describe.each([
  ['BullMQ on Redis', (p: (id: string, token: string) => Promise<void>) => bullFinishQueue(REDIS_URL, prefix, p, log, 50)],
  ['the in-process queue', async (p: (id: string, token: string) => Promise<void>) => fileFinishQueue(join(await mkdtemp(join(tmpdir(), 'podlive-queue-')), 'jobs.json'), p, log, 50)],
] as const)('the finishing queue: %s', (_name, open) => {
  let queue: FinishQueue | undefined;
  afterAll(() => queue?.close());

  it('retries a failing job with backoff until it succeeds, and runs a job added twice once', async () => {
    const worker = flaky(2);
    queue = await open(worker.process);
    const attempts: boolean[] = [];
    const settled: string[] = [];
    queue.observer.on('attempt', ({ ok, seconds }) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      attempts.push(ok);
    });
    queue.observer.on('settled', ({ result }) => settled.push(result));
    const sid = randomUUID();
    await queue.add(sid, `report-${sid}`);
    await queue.add(sid, `report-${sid}`);
    await queue.idle();
    expect(worker.done.has(sid)).toBe(true);
    expect(worker.calls.filter((c) => c === sid)).toHaveLength(3);
    // What the metrics are told: each attempt, then the job done with once.
    await until(() => settled.length > 0);
    expect(attempts).toEqual([false, false, true]);
    expect(settled).toEqual(['ok']);
    expect(await queue.counts()).toEqual({ queued: 0, running: 0 });
  });
});

describe('the finishing queue survives a recorder restart', () => {
  const redis = new Redis(REDIS_URL);
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('BullMQ: a job queued while no recorder runs is run by the next recorder that starts', async () => {
    const sid = randomUUID();
    const p = `${prefix}restart:`;
    // The job as a recorder that went down left it: in Redis, with no worker.
    const left = new Queue(FINISH_QUEUE, { connection: redis, prefix: `${p}bull` });
    await left.add('finish', { sessionId: sid, reportToken: `report-${sid}` }, { jobId: `finish-${sid}` });
    await left.close();
    const worker = flaky(0);
    const next = await bullFinishQueue(REDIS_URL, p, worker.process, log, 50);
    await until(() => worker.done.has(sid));
    await next.close();
    expect(worker.calls).toEqual([sid]);
  });

  it('in-process: jobs pending in the file when the recorder went down run when it starts again', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'podlive-queue-')), 'jobs.json');
    const sid = randomUUID();
    await writeFile(file, JSON.stringify([{ sessionId: sid, reportToken: `report-${sid}` }]));
    const worker = flaky(0);
    const queue = await fileFinishQueue(file, worker.process, log, 50);
    await queue.idle();
    expect(worker.done.has(sid)).toBe(true);
    await queue.close();
  });
});
