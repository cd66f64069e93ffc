import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { metricsTargetSchema, metricsTargetsKey } from '@podlive/shared/metrics';
import { build } from '../src/app';
import { loadConfig } from '../src/config';
import { RecorderMetrics } from '../src/metrics';
import { Recorder } from '../src/Recorder';
import { until } from './helpers/control-plane';
import { scrape } from './helpers/metrics';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const dataDir = () => mkdtemp(join(tmpdir(), 'podlive-recorder-metrics-'));

describe('the recorder’s /metrics endpoint', () => {
  const redis = new Redis(REDIS_URL);
  const prefix = `podlive-test:${randomBytes(4).toString('hex')}:`;
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('with Redis: served on a free port of 127.0.0.1, announced as job recorder / RECORDER_ID while it runs, gone from Redis after close()', { timeout: 30_000 }, async () => {
    const recorder = await Recorder.create(loadConfig({ DATA_DIR: await dataDir(), REDIS_URL, REDIS_PREFIX: prefix, RECORDER_ID: 'rec-metrics-1' }));
    const field = 'recorder/rec-metrics-1';
    try {
      expect(recorder.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
      const announced = await until(async () => (await redis.hget(metricsTargetsKey(prefix), field)) ?? undefined, 'the announce', 10_000);
      expect(metricsTargetSchema.parse(JSON.parse(announced))).toMatchObject({ job: 'recorder', instance: 'rec-metrics-1', address: recorder.metricsAddress });
      const m = await scrape(recorder.metricsAddress);
      expect(m.status).toBe(200);
      expect([m.value('podlive_recorder_lives'), m.value('podlive_recorder_renditions'), m.value('podlive_recorder_consumers')]).toEqual([0, 0, 0]);
      // The queue is BullMQ's: its waiting jobs are counted in Redis.
      expect(m.value('podlive_recorder_finish_jobs{state="queued"}')).toBe(0);
      expect(m.value('podlive_recorder_upload_lag_seconds')).toBe(0);
      expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    } finally {
      await recorder.close();
    }
    expect(await redis.hget(metricsTargetsKey(prefix), field)).toBeNull();
    await expect(scrape(recorder.metricsAddress)).rejects.toThrow();
  });

  it('/health names where the metrics are scraped; RECORDER_ID defaults to <hostname>-<pid>', { timeout: 30_000 }, async () => {
    const app = await build(loadConfig({ DATA_DIR: await dataDir() }));
    try {
      const health = (await app.inject({ method: 'GET', url: '/health' })).json();
      expect(health.metrics).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(health.recorderId).toMatch(new RegExp(`-${process.pid}$`));
      expect((await scrape(health.metrics)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('a bad RECORDER_ID or METRICS_PORT is a config error naming it', () => {
    expect(() => loadConfig({ RECORDER_ID: 'has space' })).toThrow(/RECORDER_ID/);
    expect(() => loadConfig({ METRICS_PORT: '70000' })).toThrow(/METRICS_PORT/);
  });
});

describe('RecorderMetrics', () => {
  const gauges = { lives: () => 0, renditions: () => 0, renditionsOpen: () => 0, consumers: () => 0, finishJobs: async () => ({ queued: 2, running: 1 }) };
  const value = async (metrics: RecorderMetrics, name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;

  it('upload lag: the age of the oldest chunk waiting, 0 when none waits; each chunk counted uploaded or failed once', async () => {
    const metrics = new RecorderMetrics(gauges);
    const lag = async () => (await value(metrics, 'podlive_recorder_upload_lag_seconds'))[0]!.value;
    expect(await lag()).toBe(0);
    const first = metrics.chunkWaiting('r0');
    await until(async () => ((await lag()) > 0 ? true : undefined), 'a lag', 5000);
    const second = metrics.chunkWaiting('r1');
    // The older chunk sets it.
    expect(await lag()).toBeGreaterThan(0);
    first(true);
    first(true);
    second(false);
    expect(await lag()).toBe(0);
    const count = async (name: string, rendition: string) => (await value(metrics, name)).find((v) => v.labels.rendition === rendition)?.value;
    expect(await count('podlive_recorder_chunks_uploaded_total', 'r0')).toBe(1);
    expect(await count('podlive_recorder_chunk_upload_failures_total', 'r1')).toBe(1);
    expect(await count('podlive_recorder_chunks_uploaded_total', 'r2')).toBe(0);
  });

  it('finishing jobs: queued and running from the queue, results and durations as told', async () => {
    const metrics = new RecorderMetrics(gauges);
    metrics.finishAttempt(false, 0.01);
    metrics.finishAttempt(true, 42);
    metrics.finishSettled('ok');
    const text = await metrics.registry.metrics();
    expect(text).toContain('podlive_recorder_finish_jobs{state="queued"} 2');
    expect(text).toContain('podlive_recorder_finish_jobs{state="running"} 1');
    expect(text).toContain('podlive_recorder_finish_jobs_total{result="ok"} 1');
    expect(text).toContain('podlive_recorder_finish_jobs_total{result="failed"} 0');
    expect(text).toContain('podlive_recorder_finish_attempt_failures_total 1');
    expect(text).toContain('podlive_recorder_finish_duration_seconds_bucket{le="60"} 1');
    expect(text).toContain('podlive_recorder_finish_duration_seconds_bucket{le="30"} 0');
  });
});
