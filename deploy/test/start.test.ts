import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';

const root = fileURLToPath(new URL('../..', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (deploy/dev/start.mjs)', () => {
  let child: ChildProcess | undefined;
  let dataDir = '';
  afterAll(async () => {
    if (child && child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the app, /api and every /health, then Ctrl-C stops every process, workers included', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'podlive-start-'));
    const [port, web, recorder, sfu, rtc] = await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort(), freeRtcPortBase(2)]);
    child = spawn(process.execPath, ['deploy/dev/start.mjs'], {
      cwd: root,
      // Its own process group, so the test can signal the group as a terminal's Ctrl-C does.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PORT: String(port),
        WEB_PORT: String(web),
        RECORDER_PORT: String(recorder),
        SFU_PORT: String(sfu),
        RTC_PORT_BASE: String(rtc),
        SFU_WORKERS: '2',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
      },
    });
    let output = '';
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child!.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('PodLive is running')) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`start exited (${code}):\n${output}`)));
    });
    expect(output).toContain(`http://localhost:${port}`);

    const health = async (p: number) => {
      const res = await fetch(`http://127.0.0.1:${p}/health`);
      expect(res.status).toBe(200);
      return (await res.json()) as { status: string; service: string; pid: number; workers?: Array<{ pid: number }> };
    };
    const bodies = await Promise.all([health(port), health(web), health(recorder), health(sfu)]);
    expect(bodies.map((b) => [b.service, b.status])).toEqual([['server', 'ok'], ['web', 'ok'], ['recorder', 'ok'], ['sfu', 'ok']]);

    // One origin: the web app through the control plane, and /api answered by the control plane.
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>PodLive</title>');
    // A fresh data directory works at once: the control plane migrated its database on start.
    const register = await fetch(`http://127.0.0.1:${port}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@example.com', password: 'correct horse battery', handle: 'first_user' }),
    });
    expect(register.status).toBe(201);
    const api = await fetch(`http://127.0.0.1:${port}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: expect.any(String) } });

    const pids = [...bodies.map((b) => b.pid), ...(bodies[3]!.workers ?? []).map((w) => w.pid)];
    expect(pids).toHaveLength(6);
    expect(pids.filter((pid) => !alive(pid))).toEqual([]);

    process.kill(-child.pid!, 'SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    await expect.poll(() => pids.filter(alive), { timeout: 10_000 }).toEqual([]);
  });
});
