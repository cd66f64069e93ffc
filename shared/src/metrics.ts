import { timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { envSchemas } from './env';

/**
 * Every process's Prometheus endpoint. `/metrics` is served by a listener of its own, apart from
 * the public HTTP port: METRICS_HOST (default 127.0.0.1, so nothing outside the machine reaches it
 * until an operator opens it) and METRICS_PORT (default 0: a free port, announced in Redis so
 * several nodes on one machine never clash; the production install fixes one per process). When
 * METRICS_TOKEN is set, a scrape must carry `Authorization: Bearer <token>` as well.
 *
 * With Redis, each process writes where it is scraped into the `targets` hash (a heartbeat, like the
 * fleet registry's); `deploy/monitoring` turns that into Prometheus' file-based discovery.
 */
export type MetricsJob = 'server' | 'sfu' | 'recorder';
export const METRICS_JOBS: readonly MetricsJob[] = ['server', 'sfu', 'recorder'];

/** The variables every process's config takes for its metrics listener. */
export const metricsEnvSchema = {
  METRICS_HOST: envSchemas.host('127.0.0.1'),
  METRICS_PORT: envSchemas.port(0),
  METRICS_TOKEN: envSchemas.optionalString,
};

export interface MetricsSettings {
  METRICS_HOST: string;
  METRICS_PORT: number;
  METRICS_TOKEN?: string | undefined;
}

/** How often a process re-announces itself, and after how long without it a target is gone. */
export const METRICS_ANNOUNCE_MS = 5000;
export const METRICS_TARGET_STALE_MS = 4 * METRICS_ANNOUNCE_MS;

export const metricsTargetSchema = z.object({
  job: z.enum(['server', 'sfu', 'recorder']),
  /** The node id, replica name or recorder id: Prometheus' `instance` label. */
  instance: z.string().regex(/^[\w.:-]{1,128}$/),
  /** host:port Prometheus scrapes. */
  address: z.string().min(3).max(300),
  ts: z.number(),
});
export type MetricsTarget = z.infer<typeof metricsTargetSchema>;

export const metricsTargetsKey = (prefix: string) => `${prefix}metrics:targets`;

/** A registry with the process's CPU, memory, event-loop and GC metrics (prom-client's defaults). */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsEndpoint {
  /** host:port as bound (the port is the real one when 0 was asked). */
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` from `registry` on METRICS_HOST:METRICS_PORT. */
export async function serveMetrics(registry: Registry, settings: MetricsSettings): Promise<MetricsEndpoint> {
  const expected = settings.METRICS_TOKEN === undefined ? undefined : Buffer.from(`Bearer ${settings.METRICS_TOKEN}`);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: scrape /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    if (expected !== undefined && !sameSecret(req.headers.authorization, expected)) {
      return void res.writeHead(401, { 'www-authenticate': 'Bearer realm="metrics"', 'content-type': 'text/plain' }).end('a bearer token is required\n');
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${(err as Error).message}\n`),
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.METRICS_PORT, settings.METRICS_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `${advertisedHost(settings.METRICS_HOST)}:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function sameSecret(given: string | undefined, expected: Buffer): boolean {
  const buf = Buffer.from(given ?? '');
  return buf.length === expected.length && timingSafeEqual(buf, expected);
}

/** A wildcard listen address is announced as the machine's name; IPv6 literals get brackets. */
function advertisedHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return hostname();
  return host.includes(':') ? `[${host}]` : host;
}

/** The two Redis commands announcing needs (ioredis' client has them). */
export interface TargetStore {
  hset(key: string, field: string, value: string): Promise<unknown>;
  hdel(key: string, field: string): Promise<unknown>;
}

/**
 * Writes `{ job, instance, address }` to the targets hash now and every METRICS_ANNOUNCE_MS; the
 * returned function stops and removes it (a clean stop leaves no stale target behind).
 */
export function announceMetrics(redis: TargetStore, prefix: string, target: Omit<MetricsTarget, 'ts'>, onError: (err: unknown) => void): () => Promise<void> {
  const key = metricsTargetsKey(prefix);
  const field = `${target.job}/${target.instance}`;
  const write = () => redis.hset(key, field, JSON.stringify({ ...target, ts: Date.now() })).catch(onError);
  void write();
  const timer = setInterval(() => void write(), METRICS_ANNOUNCE_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await redis.hdel(key, field).catch(onError);
  };
}

/**
 * serveMetrics, then (with `announce`: the process has Redis) announceMetrics of where it is
 * served; `close` stops the announce (its target removed) and then the listener.
 */
export async function exposeMetrics(
  registry: Registry,
  settings: MetricsSettings,
  announce: { redis: TargetStore; prefix: string; job: MetricsJob; instance: string; onError: (err: unknown) => void } | undefined,
): Promise<MetricsEndpoint> {
  const endpoint = await serveMetrics(registry, settings);
  if (announce === undefined) return endpoint;
  const stop = announceMetrics(announce.redis, announce.prefix, { job: announce.job, instance: announce.instance, address: endpoint.address }, announce.onError);
  return {
    address: endpoint.address,
    port: endpoint.port,
    async close() {
      await stop();
      await endpoint.close();
    },
  };
}

/** Prometheus' histogram buckets for request-like durations, in seconds (1 ms … 10 s). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10];
