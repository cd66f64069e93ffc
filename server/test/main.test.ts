import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir, type LogLine } from './helpers';

const serverDir = fileURLToPath(new URL('..', import.meta.url));

/** Starts `src/main.ts` as the real process would run, collecting its JSON log lines. */
async function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', DATA_DIR: await tempDir(), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  const listeners: Array<(line: LogLine) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    listeners.forEach((listener) => listener(line));
  });
  const waitForLine = (msg: string) =>
    new Promise<LogLine>((resolve, reject) => {
      const found = lines.find((line) => line.msg === msg);
      if (found) return resolve(found);
      listeners.push((line) => line.msg === msg && resolve(line));
      child.once('close', (code) => reject(new Error(`exited with ${code} before logging "${msg}"`)));
    });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, lines, waitForLine, exited };
}

const stop = (child: ChildProcess, signal: NodeJS.Signals) => child.exitCode === null && child.kill(signal);

describe('main.ts', () => {
  it('starts in named steps, serves /health, and exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
    const { child, waitForLine, exited } = await startMain({ PORT: '0' });
    try {
      const ready = await waitForLine('server ready');
      expect(ready).toMatchObject({ storage: 'local', mail: 'outbox', bus: 'in-process' });
      const response = await fetch(`${String(ready.address)}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'ok', service: 'server' });
      // /metrics on a port of its own (127.0.0.1 by default), never on the public one.
      expect(ready.metrics).toMatch(/^127\.0\.0\.1:\d+$/);
      expect((await fetch(`${String(ready.address)}/metrics`)).headers.get('content-type')).not.toMatch(/^text\/plain; version=0\.0\.4/);
      const metrics = await (await fetch(`http://${String(ready.metrics)}/metrics`)).text();
      expect(metrics).toMatch(/^podlive_http_request_duration_seconds_count\{route="\/health",method="GET",status="200"\} 1$/m);
      expect(metrics).toMatch(/^podlive_lives\{state="live"\} 0$/m);
      expect(metrics).toMatch(/^podlive_db_ping_seconds 0\.\d+/m);
      expect(metrics).toMatch(/^podlive_ws_connections 0$/m);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      await waitForLine('stopped');
    } finally {
      stop(child, 'SIGKILL');
    }
  });

  it('exits 1 and names the failed step and variable when the config is bad', { timeout: 30_000 }, async () => {
    const { child, lines, exited } = await startMain({ PORT: 'not-a-port' });
    try {
      expect(await exited).toBe(1);
      const fatal = lines.find((line) => line.level === 60);
      expect(fatal).toMatchObject({ step: 'load config' });
      expect((fatal?.err as { message: string }).message).toContain('PORT');
    } finally {
      stop(child, 'SIGKILL');
    }
  });
});
