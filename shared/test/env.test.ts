import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, configLoader, devSecret, envSchemas, parseEnv } from '../src/env';

const run = promisify(execFile);

describe('parseEnv', () => {
  const schema = z.object({ PORT: envSchemas.port(3000), NAME: z.string().min(2) });

  it('applies defaults and freezes the result', () => {
    const config = parseEnv(schema, { NAME: 'pod' });
    expect(config).toEqual({ PORT: 3000, NAME: 'pod' });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('names every bad variable in one ConfigError', () => {
    let error: unknown;
    try {
      parseEnv(schema, { PORT: 'eighty', NAME: 'x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/PORT: .*; NAME: /);
  });
});

describe('configLoader', () => {
  const schema = z.object({ PORT: envSchemas.port(3000), REDIS_URL: envSchemas.redisUrl, NODE: envSchemas.name('local') });
  const load = configLoader(schema, (env, raw) => ({ port: env.PORT, redis: { url: env.REDIS_URL, given: 'REDIS_URL' in raw }, node: env.NODE }));

  it('a blank variable counts as unset (its default applies), in the parse and in what derive sees', () => {
    expect(load({ PORT: ' ', REDIS_URL: '', NODE: '' })).toEqual({ port: 3000, redis: { url: undefined, given: false }, node: 'local' });
  });

  it('derives, then freezes all the way down', () => {
    const config = load({ REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', given: true });
    expect(Object.isFrozen(config) && Object.isFrozen(config.redis)).toBe(true);
  });

  it('refuses a bad variable with a ConfigError naming it, before derive runs', () => {
    let derived = false;
    const strict = configLoader(schema, () => {
      derived = true;
      return {};
    });
    expect(() => strict({ REDIS_URL: 'http://cache', NODE: 'a b' })).toThrow(/REDIS_URL: .*; NODE: must be 1-64/);
    expect(() => strict({ PORT: '70000' })).toThrow(ConfigError);
    expect(derived).toBe(false);
  });
});

describe('devSecret', () => {
  it('is generated once, kept private, and read back the same', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podlive-secret-'));
    const first = devSecret(dir, 'MEDIA_TOKEN_SECRET');
    expect(first).toMatch(/^[\w-]{43}$/);
    expect(devSecret(dir, 'MEDIA_TOKEN_SECRET')).toBe(first);
    expect(devSecret(dir, 'OTHER')).not.toBe(first);
    expect((await stat(join(dir, 'secrets', 'MEDIA_TOKEN_SECRET'))).mode & 0o777).toBe(0o600);
  });

  it('gives every one of several processes starting together the same value', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podlive-secret-'));
    const envModule = fileURLToPath(new URL('../src/env.ts', import.meta.url));
    const script = `const { devSecret } = await import(${JSON.stringify(envModule)}); process.stdout.write(devSecret(process.argv[1], 'S'));`;
    const values = await Promise.all(
      Array.from({ length: 6 }, async () => (await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir])).stdout),
    );
    expect(values[0]).toMatch(/^[\w-]{43}$/);
    expect(new Set(values).size).toBe(1);
    expect(await readFile(join(dir, 'secrets', 'S'), 'utf8')).toBe(values[0]);
  }, 60_000); // six tsx processes start: seconds each on a loaded machine
});
