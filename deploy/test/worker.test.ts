import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const script = join(root, 'deploy/mediasoup/worker.sh');
const run = (env: Record<string, string>) => promisify(execFile)('bash', [script], { env: { ...process.env, ...env } });
const { MEDIASOUP_WORKER_BIN: _ignored, ...baseEnv } = process.env;

async function failure(env: Record<string, string>): Promise<string> {
  try {
    await promisify(execFile)('bash', [script], { env: { ...baseEnv, ...env } as NodeJS.ProcessEnv });
  } catch (err) {
    return (err as { stderr: string }).stderr;
  }
  throw new Error('expected worker.sh to fail');
}

describe('deploy/mediasoup/worker.sh', () => {
  it('honours MEDIASOUP_WORKER_BIN, and refuses one that is not executable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'podlive-worker-'));
    const bin = join(dir, 'my-worker');
    await writeFile(bin, '#!/bin/sh\n');
    await chmod(bin, 0o755);
    expect((await run({ MEDIASOUP_WORKER_BIN: bin })).stdout.trim()).toBe(bin);
    expect(await failure({ MEDIASOUP_WORKER_BIN: join(dir, 'missing') })).toMatch(/is not an executable file/);
  });

  it('uses the binary cached for the installed mediasoup version, outside the repo', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'podlive-cache-'));
    const bin = join(cache, 'mediasoup-worker-3.12.16', 'mediasoup-worker');
    await mkdir(join(cache, 'mediasoup-worker-3.12.16'));
    await writeFile(bin, '#!/bin/sh\n');
    await chmod(bin, 0o755);
    const { stdout } = await promisify(execFile)('bash', [script], { env: { ...baseEnv, PODLIVE_CACHE_DIR: cache } as NodeJS.ProcessEnv });
    expect(stdout.trim()).toBe(bin);
  });

  it('without MEDIASOUP_WORKER_BIN it finds this machine\'s cached 3.12.16 worker; node_modules is untouched', async () => {
    const { stdout } = await promisify(execFile)('bash', [script], { env: baseEnv as NodeJS.ProcessEnv });
    expect(stdout.trim()).toMatch(/mediasoup-worker-3\.12\.16\/mediasoup-worker$/);
    // A build would leave out/ or build/ in the package's worker folder; the script builds in a copy.
    const workerDir = join(root, 'sfu/node_modules/mediasoup/worker');
    expect((await readdir(workerDir)).filter((f) => ['out', 'build', 'prebuild'].includes(f))).toEqual([]);
  });
});
