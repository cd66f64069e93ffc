import { createLogger, type Logger } from '@podlive/shared/logger';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { loadConfig, type Config } from '../src/config';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A fresh directory, removed when the test file is done (so suites may share one from beforeAll). */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'podlive-server-'));
  dirs.push(dir);
  return dir;
}

/** A config for tests: its own DATA_DIR, nothing from the real environment. */
export async function testConfig(env: Record<string, string> = {}): Promise<Config> {
  return loadConfig({ DATA_DIR: await tempDir(), ...env });
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** The processes' own logger (createLogger, redaction included) at trace level, its JSON lines kept in memory. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = createLogger('server', { level: 'trace' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}
