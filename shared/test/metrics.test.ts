import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Counter } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { announceMetrics, createMetricsRegistry, metricsTargetSchema, metricsTargetsKey, serveMetrics } from '../src/metrics';

describe('the metrics endpoint', () => {
  it('serves the registry in the Prometheus text format on its own port, with the process defaults', async () => {
    const registry = createMetricsRegistry();
    new Counter({ name: 'podlive_test_things_total', help: 'things', registers: [registry] }).inc(3);
    const endpoint = await serveMetrics(registry, { METRICS_HOST: '127.0.0.1', METRICS_PORT: 0 });
    try {
      expect(endpoint.address).toBe(`127.0.0.1:${endpoint.port}`);
      const res = await fetch(`http://${endpoint.address}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).toMatch(/^podlive_test_things_total 3$/m);
      expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
      expect((await fetch(`http://${endpoint.address}/`)).status).toBe(404);
      expect((await fetch(`http://${endpoint.address}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await endpoint.close();
    }
  });

  it('with METRICS_TOKEN, refuses a scrape without the bearer token or with a wrong one', async () => {
    const endpoint = await serveMetrics(createMetricsRegistry(), { METRICS_HOST: '127.0.0.1', METRICS_PORT: 0, METRICS_TOKEN: 's3cret-token' });
    try {
      const url = `http://${endpoint.address}/metrics`;
      const none = await fetch(url);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await fetch(url, { headers: { authorization: 'Bearer s3cret-tokem' } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer s3cret-token' } })).status).toBe(200);
    } finally {
      await endpoint.close();
    }
  });
});

describe('announcing a target in Redis', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `podlive-test-${randomUUID()}:`;
  afterAll(async () => {
    await redis.del(metricsTargetsKey(prefix));
    redis.disconnect();
  });

  it('writes where the process is scraped, and removes it on stop', async () => {
    const stop = announceMetrics(redis, prefix, { job: 'sfu', instance: 'node-a', address: '127.0.0.1:9465' }, (err) => {
      throw err;
    });
    await expect.poll(() => redis.hget(metricsTargetsKey(prefix), 'sfu/node-a')).not.toBeNull();
    const target = metricsTargetSchema.parse(JSON.parse((await redis.hget(metricsTargetsKey(prefix), 'sfu/node-a'))!));
    expect(target).toMatchObject({ job: 'sfu', instance: 'node-a', address: '127.0.0.1:9465' });
    expect(Math.abs(target.ts - Date.now())).toBeLessThan(60_000);
    await stop();
    expect(await redis.hget(metricsTargetsKey(prefix), 'sfu/node-a')).toBeNull();
  });
});
