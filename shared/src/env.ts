import { KeyObject, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_REDIS_PREFIX } from './fleet';

/** Thrown at start-up when the environment is invalid; the message names each bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses `env` with `schema` once, at start-up, into a read-only object. A variable set to blank
 * counts as unset (its default applies) in every process. Every problem is reported with the
 * variable's name: `Invalid configuration: PORT: expected a number ...`.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.output<S>> {
  const result = schema.safeParse(withoutBlanks(env));
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** `env` without the variables set to blank (`PORT=` in a unit file or `.env` means "use the default"). */
export function withoutBlanks(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value === undefined || value.trim() !== ''));
}

/**
 * How every process makes its config: one schema of its variables (built from `envSchemas`),
 * parsed by `parseEnv` (a ConfigError naming each bad variable), then `derive` computes what
 * depends on several variables or on the disk (defaults from other variables, generated dev
 * secrets); the result is frozen all the way down. `derive` also gets the raw environment, for
 * the rare default that depends on whether a variable was given at all.
 */
export function configLoader<S extends z.ZodType, C extends object>(
  schema: S,
  derive: (env: Readonly<z.output<S>>, raw: NodeJS.ProcessEnv) => C,
): (env?: NodeJS.ProcessEnv) => Readonly<C> {
  return (env = process.env) => deepFreeze(derive(parseEnv(schema, env), withoutBlanks(env)));
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    // A KeyObject caches its details on first use: left as it is.
    if (child !== null && typeof child === 'object' && !Object.isFrozen(child) && !(child instanceof KeyObject)) deepFreeze(child as object);
  }
  return Object.freeze(value);
}

/** The repository's root, for defaults such as the data directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Default data directory (embedded database, local storage, outbox, generated secrets). */
export const defaultDataDir = join(repoRoot, 'data');

/** Schema pieces used by every process's config. */
export const envSchemas = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  /** A whole number in [min, max] (counts, limits, durations in ms). */
  int: (min: number, max: number, fallback: number) => z.coerce.number().int().min(min).max(max).default(fallback),
  /** An address to listen on. */
  host: (fallback: string) => z.string().trim().min(1).default(fallback),
  url: z.url({ protocol: /^https?$/ }),
  optionalString: z.string().trim().min(1).optional().catch(undefined),
  dataDir: z.string().min(1).default(defaultDataDir).transform((dir) => resolve(dir)),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  /** A node id or region label: SFU_NODE_ID, SFU_REGION. */
  name: (fallback: string) => z.string().regex(/^[\w.-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_.-]').default(fallback),
  /** REDIS_URL: unset means one process alone (in-process bus, state and queue). */
  redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
  /** REDIS_PREFIX: before every Redis key and channel (deployments or test runs sharing a Redis stay apart). */
  redisPrefix: z.string().regex(/^[\w:.-]{1,64}$/, 'must be 1-64 of [A-Za-z0-9_:.-]').default(DEFAULT_REDIS_PREFIX),
  /** A yes/no switch: 1/true/yes/on or 0/false/no/off (any case). */
  flag: (fallback: boolean) =>
    z.preprocess(
      (v) => (typeof v === 'string' ? v.trim().toLowerCase() || undefined : v),
      z
        .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { error: 'use 1/0, true/false, yes/no or on/off' })
        .optional()
        .transform((v) => (v === undefined ? fallback : ['1', 'true', 'yes', 'on'].includes(v))),
    ),
} as const;

/**
 * A development secret: generated once (32 random bytes, base64url) and kept in
 * `<dataDir>/secrets/<name>` (mode 0600), so every process of one machine reads the same value
 * and restarts keep sessions valid. Safe when several processes start at once: the file appears
 * atomically (written aside, then hard-linked into place; the loser reads the winner's).
 * `make` generates other kinds of secret the same way (a VAPID private key).
 */
export function devSecret(dataDir: string, name: string, make: () => string = () => randomBytes(32).toString('base64url')): string {
  const file = join(dataDir, 'secrets', name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, make(), { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
  return readFileSync(file, 'utf8').trim();
}
