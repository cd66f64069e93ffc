import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, linkSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Thrown at start-up when the environment is invalid; the message names each bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses `env` with `schema` once, at start-up, into a read-only object. Every problem is reported
 * with the variable's name: `Invalid configuration: PORT: expected a number ...`.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): Readonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  return Object.freeze(result.data);
}

/** The repository's root, for defaults such as the data directory. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Default data directory (embedded database, local storage, outbox, generated secrets). */
export const defaultDataDir = join(repoRoot, 'data');

/** Schema pieces used by every process's config. */
export const envSchemas = {
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  url: z.url({ protocol: /^https?$/ }),
  optionalString: z.string().trim().min(1).optional().catch(undefined),
  dataDir: z.string().min(1).default(defaultDataDir).transform((dir) => resolve(dir)),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
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
