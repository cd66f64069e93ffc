import { execFile, fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveSession } from '@podlive/shared/live';
import { latestCode } from '@podlive/shared/testing/outbox';
import { prepareHostMedia } from './host-media';
import type { LoadReport } from './report';

/**
 * The real control plane with a real media node (one worker) in its own process: the benchmarks'
 * server process (deploy/bench/lib/server-process.ts: a fresh PostgreSQL test database, cheap
 * password hashing, no rate limit a test reaches), driven over its IPC ('ready', 'stop').
 */
const SERVER = fileURLToPath(new URL('../../deploy/bench/lib/server-process.ts', import.meta.url));
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const PASSWORD = 'correct horse battery staple';

interface Stack {
  url: string;
  outbox: string;
  child: ChildProcess;
}

function startStack(): Promise<Stack> {
  const child = fork(SERVER, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_SERVER_CHILD: '1', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the control plane process exited with ${code}`)));
    child.on('message', (m: { type: string; url?: string; outbox?: string; message?: string }) => {
      if (m.type === 'error') reject(new Error(m.message));
      if (m.type === 'ready' && m.url && m.outbox) resolve({ url: m.url, outbox: m.outbox, child });
    });
  });
}

async function post(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
}

/** A registered account whose email is verified (the code read from the server's mail outbox). */
async function verifiedHost(stack: Stack): Promise<string> {
  const email = `load_${randomBytes(4).toString('hex')}@example.test`;
  await post(`${stack.url}/api/auth/register`, { email, password: PASSWORD, handle: `load_${randomBytes(3).toString('hex')}` });
  await post(`${stack.url}/api/auth/verify-otp`, { email, code: await latestCode(stack.outbox, email), purpose: 'verify_email' });
  return email;
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('podlive-load --publish', () => {
  let stack: Stack;

  beforeAll(async () => {
    // The clip is encoded on the first run on this machine (a few seconds), then read from the cache.
    [stack] = await Promise.all([startStack(), prepareHostMedia()]);
  }, 90_000);

  afterAll(async () => {
    if (!stack) return;
    stack.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => stack.child.once('exit', resolve));
    stack.child.send({ type: 'stop' });
    await exited;
  });

  it('logs in as a verified host, creates and starts a live, publishes simulcast to it, and its viewers receive the media; the live ends with the run', async () => {
    const email = await verifiedHost(stack);
    const out = join(await mkdtemp(join(tmpdir(), 'podlive-load-')), 'report.json');
    const run = await cli(
      ['--url', stack.url, '--publish', '--email', email, '--title', 'Load test', '--viewers', '2', '--rate', '10', '--duration', '3', '--sample', '10', '--json', out, '--no-progress'],
      { PODLIVE_PASSWORD: PASSWORD },
    );
    expect(run.stderr).toMatch(/live [0-9a-f-]{36} started; publishing audio and video/);
    expect(run.code).toBe(0);
    const report = JSON.parse(await readFile(out, 'utf8')) as LoadReport;
    const session = report.config.session;
    expect(run.stderr).toContain(`live ${session} ended`);
    expect(report.config.source).toBe('rest');
    expect(report.viewers).toEqual({ requested: 2, joined: 2, failed: 0, receiving: 2, verified: 2 });
    // Both kinds from the published clip, through the control plane's token route and the node.
    for (const viewer of report.perViewer) {
      expect(Object.values(viewer.consumers).map((c) => `${c.kind} ${c.type}`).sort()).toEqual(['audio simple', 'video simulcast']);
      expect(viewer.counts.audio.packets).toBeGreaterThan(20);
      expect(viewer.counts.video.packets).toBeGreaterThan(20);
    }
    expect(report.verification.failed).toBe(0);
    const live = (await (await fetch(`${stack.url}/api/live/${session}`)).json()) as LiveSession;
    expect(live).toMatchObject({ id: session, title: 'Load test', status: 'ended' });
  }, 120_000);

  it('a wrong password stops before any live is made, with the API’s answer', async () => {
    const email = await verifiedHost(stack);
    const run = await cli(['--url', stack.url, '--publish', '--email', email, '--viewers', '1', '--no-progress'], { PODLIVE_PASSWORD: 'not the password' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/POST \/api\/auth\/login: HTTP 401/);
    expect(run.stderr).not.toMatch(/started/);
  }, 60_000);

  it('refuses --publish without credentials or with --session, before calling anyone', async () => {
    const noPassword = await cli(['--url', stack.url, '--publish', '--email', 'a@example.test'], { PODLIVE_PASSWORD: '' });
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toMatch(/--publish needs PODLIVE_PASSWORD or --password-file/);
    const withSession = await cli(['--url', stack.url, '--publish', '--email', 'a@example.test', '--session', 'x'], { PODLIVE_PASSWORD: 'x' });
    expect(withSession.code).toBe(2);
    expect(withSession.stderr).toMatch(/--publish creates its own live: no --session/);
  }, 30_000);
});
