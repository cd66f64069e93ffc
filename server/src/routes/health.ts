import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { healthReport, type HealthReport } from '@podlive/shared/health';

/** A named probe; it passes when it resolves within the timeout. */
export type HealthCheck = () => Promise<void>;

export interface HealthOptions {
  checks: Record<string, HealthCheck>;
  /** Per-check limit, default 2000 ms (a Redis that is reconnecting would otherwise hang the probe). */
  timeoutMs?: number;
}

export type CheckResult = 'ok' | 'fail';

export interface HealthBody extends HealthReport {
  service: 'server';
  checks: Record<string, CheckResult>;
}

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
export const version = packageJson.version;

function withTimeout(check: HealthCheck, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([check(), timeout]).finally(() => clearTimeout(timer));
}

/** `GET /health`: 200 when every check passes, 503 `degraded` otherwise (reasons go to the log only). */
export default async function healthRoutes(app: FastifyInstance, options: HealthOptions) {
  const timeoutMs = options.timeoutMs ?? 2000;
  app.get('/health', async (request, reply): Promise<HealthBody> => {
    const entries = await Promise.all(
      Object.entries(options.checks).map(async ([name, check]): Promise<[string, CheckResult]> => {
        try {
          await withTimeout(check, timeoutMs);
          return [name, 'ok'];
        } catch (err) {
          request.log.warn({ err, check: name }, 'health check failed');
          return [name, 'fail'];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    const healthy = entries.every(([, result]) => result === 'ok');
    reply.code(healthy ? 200 : 503).header('cache-control', 'no-store');
    return { ...healthReport('server', version, { checks }), service: 'server', checks, status: healthy ? 'ok' : 'degraded' };
  });
}
