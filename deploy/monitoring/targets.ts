import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { METRICS_JOBS, METRICS_TARGET_STALE_MS, metricsTargetSchema, metricsTargetsKey, type MetricsJob, type MetricsTarget } from '@podlive/shared/metrics';

/**
 * Prometheus' file-based discovery from the targets every PodLive process announces in Redis
 * (shared/metrics): one file per job (`server.json`, `sfu.json`, `recorder.json`), each a list of
 * `{ targets: [host:port], labels: { instance } }`, written atomically (Prometheus watches them).
 *
 * A process that stops cleanly removes its target; one that dies keeps it, so Prometheus goes on
 * scraping it, sees `up == 0` and the node-down alert fires. Only after FORGET_AFTER_MS without a
 * heartbeat is a target dropped (from the files and from Redis): the alert has long fired by then.
 */
export const FORGET_AFTER_MS = 15 * 60_000;

export interface TargetsByJob {
  targets: Record<MetricsJob, MetricsTarget[]>;
  /** Targets whose heartbeat is older than METRICS_TARGET_STALE_MS (still listed, presumably down). */
  stale: MetricsTarget[];
}

export async function readTargets(redis: Redis, prefix: string, now = Date.now()): Promise<TargetsByJob> {
  const key = metricsTargetsKey(prefix);
  const raw = await redis.hgetall(key);
  const targets = Object.fromEntries(METRICS_JOBS.map((job) => [job, [] as MetricsTarget[]])) as Record<MetricsJob, MetricsTarget[]>;
  const stale: MetricsTarget[] = [];
  const forget: string[] = [];
  for (const [field, text] of Object.entries(raw)) {
    let parsed;
    try {
      parsed = metricsTargetSchema.safeParse(JSON.parse(text));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success || now - parsed.data.ts > FORGET_AFTER_MS) {
      forget.push(field);
      continue;
    }
    targets[parsed.data.job].push(parsed.data);
    if (now - parsed.data.ts > METRICS_TARGET_STALE_MS) stale.push(parsed.data);
  }
  if (forget.length > 0) await redis.hdel(key, ...forget);
  for (const job of METRICS_JOBS) targets[job].sort((a, b) => a.instance.localeCompare(b.instance));
  return { targets, stale };
}

/** Writes `<dir>/<job>.json` for every job (an empty list when a job has no target). */
export async function writeTargetFiles(dir: string, targets: Record<MetricsJob, MetricsTarget[]>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const job of METRICS_JOBS) {
    const groups = targets[job].map((t) => ({ targets: [t.address], labels: { instance: t.instance } }));
    const file = join(dir, `${job}.json`);
    await writeFile(`${file}.tmp`, `${JSON.stringify(groups, null, 2)}\n`);
    await rename(`${file}.tmp`, file);
  }
}
