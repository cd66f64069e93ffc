import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3Storage } from '../src/index';

/** The script the child runs: s3rver with one bucket; prints its port, stops when stdin closes. */
const SCRIPT = `
const S3rver = require('s3rver');
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: process.argv[1], configureBuckets: [{ name: process.argv[2] }] });
server.run().then(({ port }) => console.log(JSON.stringify({ port })));
process.stdin.on('end', () => server.close().then(() => process.exit(0)));
process.stdin.resume();
`;

export interface S3rverProcess {
  storage: S3Storage;
  endpoint: string;
  close(): Promise<void>;
}

/**
 * s3rver in a child process, with an S3Storage on it; used by this package's tests and by the
 * server's and web's S3 tests. Its bucket lives in a temporary directory that close() removes.
 * A child because s3rver makes its ListObjectsV2 continuation tokens with DES, which Node's
 * OpenSSL 3 has only with the legacy provider: a flag for the child, not for the test process.
 * (The in-process s3rver of storage.test.ts works as long as no listing is truncated.)
 */
export async function startS3rverProcess(bucket = 'media'): Promise<S3rverProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'podlive-s3rver-'));
  // This package's folder: where the child's require('s3rver') resolves (a devDependency here).
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', SCRIPT, dir, bucket], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const storage = new S3Storage({ bucket, region: 'us-east-1', endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' });
  return {
    storage,
    endpoint,
    async close() {
      storage.close();
      child.stdin.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
