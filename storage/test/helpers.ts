import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory, removed when the test file is done. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podlive-storage-'));
  dirs.push(dir);
  return dir;
}
