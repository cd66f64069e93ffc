import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

/**
 * mediasoup reads MEDIASOUP_WORKER_BIN once, when it is first imported. This module is imported
 * before mediasoup and points it at the binary deploy/mediasoup/worker.sh cached for the installed
 * version, unless the variable is already set. Without either, it fails with a clear message
 * instead of mediasoup's ENOENT at the first worker.
 */
function resolveWorkerBin(): string {
  if (process.env.MEDIASOUP_WORKER_BIN) return process.env.MEDIASOUP_WORKER_BIN;
  const require = createRequire(import.meta.url);
  const { version } = JSON.parse(readFileSync(require.resolve('mediasoup/package.json'), 'utf8')) as { version: string };
  const cacheRoot = process.env.PODLIVE_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'podlive');
  const bin = join(cacheRoot, `mediasoup-worker-${version}`, 'mediasoup-worker');
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`mediasoup worker ${version} not found at ${bin}: run "npm run setup" (or bash deploy/mediasoup/worker.sh), or set MEDIASOUP_WORKER_BIN`);
  }
  return bin;
}

process.env.MEDIASOUP_WORKER_BIN = resolveWorkerBin();
