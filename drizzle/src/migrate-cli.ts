/**
 * `pnpm --filter @podlive/db migrate`: applies the pending migrations to the database the
 * environment names (DATABASE_URL, else PGlite in DATA_DIR), then exits 0; 1 on any failure.
 */
import { z } from 'zod';
import { ConfigError, envSchemas, parseEnv } from '@podlive/shared/env';
import { createLogger } from '@podlive/shared/logger';
import { createDb, migrate, type DbHandle } from './client';

const log = createLogger('db').child({ module: 'migrate' });

const schema = z.object({
  DATABASE_URL: z.string().trim().regex(/^postgres(ql)?:\/\/./, 'expected a postgres:// or postgresql:// URL').optional(),
  DATA_DIR: envSchemas.dataDir,
});

interface MigrateConfig {
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
}

function readConfig(env: NodeJS.ProcessEnv): MigrateConfig {
  const parsed = parseEnv(schema, { ...env, DATABASE_URL: env.DATABASE_URL || undefined });
  return Object.freeze({ databaseUrl: parsed.DATABASE_URL, dataDir: parsed.DATA_DIR });
}

/** Where we migrate, without the password. */
function describeTarget(config: MigrateConfig): string {
  if (config.databaseUrl === undefined) return `pglite in ${config.dataDir}/pglite`;
  const url = new URL(config.databaseUrl);
  return `postgres at ${url.host}${url.pathname}`;
}

/** The innermost reason: drizzle's message is the failed SQL, the driver's (in `cause`) says why. */
function reasonOf(err: unknown): string {
  let reason = String(err);
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const first = e instanceof AggregateError ? (e.errors[0] as unknown) : undefined;
    reason = e.message || (first instanceof Error ? first.message : e.name);
  }
  return reason;
}

async function main(): Promise<number> {
  let handle: DbHandle | undefined;
  try {
    const config = readConfig(process.env);
    const target = describeTarget(config);
    log.info({ target }, 'applying migrations');
    const started = performance.now();
    handle = await createDb(config);
    await migrate(handle);
    log.info({ target, ms: Math.round(performance.now() - started) }, 'database is up to date');
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) log.error(err.message);
    else log.error({ err }, `migration failed: ${reasonOf(err)}`);
    return 1;
  } finally {
    await handle?.close().catch((err: unknown) => log.warn({ err }, 'closing the database failed'));
  }
}

process.exit(await main());
