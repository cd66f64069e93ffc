import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NAMES = ['server', 'web', 'recorder', 'sfu'] as const;
type Name = (typeof NAMES)[number];

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
  let output = '';
  /** The control plane's media token key pair, given to the launcher as an operator would. */
  const tokenKeys = testKeyPair();
  /** Where each process answers /health (the SFU's internal listener, not its public port). */
  const ports = {} as Record<Name, number>;

  /** The pid the launcher announced last for `name` ("[start] sfu running (pid 123)"). */
  const pidOf = (name: Name): number | undefined => {
    const all = [...output.matchAll(new RegExp(`\\[start\\] ${name} running \\(pid (\\d+)\\)`, 'g'))];
    const last = all.at(-1)?.[1];
    return last === undefined ? undefined : Number(last);
  };
  const health = async (name: Name) => {
    const res = await fetch(`http://127.0.0.1:${ports[name]}/health`);
    expect(res.status).toBe(200);
    return (await res.json()) as { status: string; service: string; pid: number; workers?: Array<{ pid: number }> };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'podlive-start-'));
    const [server, web, recorder, sfu, sfuControl, rtc] = await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpPort(), freeRtcPortBase(2)]);
    Object.assign(ports, { server, web, recorder, sfu: sfuControl });
    child = spawn(process.execPath, ['deploy/dev/start.mjs'], {
      cwd: root,
      // Its own process group, so the test can signal the group as a terminal's Ctrl-C does.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PORT: String(server),
        WEB_PORT: String(web),
        RECORDER_PORT: String(recorder),
        SFU_PORT: String(sfu),
        SFU_CONTROL_PORT: String(sfuControl),
        RTC_PORT_BASE: String(rtc),
        SFU_WORKERS: '2',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'warn',
        MEDIA_TOKEN_PRIVATE_KEY: tokenKeys.privatePem,
      },
    });
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child!.stdout?.on('data', (d: Buffer) => {
        output += d.toString();
        if (output.includes('PodLive is running')) resolve();
      });
      child!.once('exit', (code) => reject(new Error(`start exited (${code}):\n${output}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the app, /api and every /health', async () => {
    expect(output).toContain(`http://localhost:${ports.server}`);
    const bodies = await Promise.all(NAMES.map(health));
    expect(bodies.map((b) => [b.service, b.status])).toEqual(NAMES.map((name) => [name, 'ok']));
    expect(bodies.map((b) => b.pid)).toEqual(NAMES.map(pidOf));

    // One origin: the web app through the control plane, and /api answered by the control plane.
    const page = await fetch(`http://127.0.0.1:${ports.server}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>PodLive</title>');
    // A fresh data directory works at once: the control plane migrated its database on start.
    const register = await fetch(`http://127.0.0.1:${ports.server}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'first@example.com', password: 'correct horse battery', handle: 'first_user' }),
    });
    expect(register.status).toBe(202);
    const api = await fetch(`http://127.0.0.1:${ports.server}/api/nothing-here`);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ error: { code: expect.any(String) } });
  });

  it('gives the private key to the control plane only: the SFU node and the recorder get the public key', async () => {
    const environ = async (name: Name) => (await readFile(`/proc/${pidOf(name)}/environ`, 'utf8')).split('\0');
    expect(await environ('server')).toContain(`MEDIA_TOKEN_PRIVATE_KEY=${tokenKeys.privatePem}`);
    for (const name of ['sfu', 'recorder'] as const) {
      const env = await environ(name);
      expect(env, name).toContain(`MEDIA_TOKEN_PUBLIC_KEY=${tokenKeys.publicPem}`);
      expect(env.filter((line) => /^MEDIA_TOKEN_(PRIVATE_KEY|SECRET)=|PRIVATE KEY/.test(line)), name).toEqual([]);
    }
  });

  it.each(['sfu', 'recorder', 'web'] as const)('a killed %s is started again within 2 s and the others keep running', async (name) => {
    const before = Object.fromEntries(NAMES.map((n) => [n, pidOf(n)])) as Record<Name, number>;
    process.kill(before[name], 'SIGKILL');
    const killedAt = Date.now();
    await expect.poll(() => pidOf(name), { timeout: 2_000, interval: 20 }).not.toBe(before[name]);
    const respawnMs = Date.now() - killedAt;
    // Answering again takes the process's own start (tsx, workers) on top: generous on a loaded machine.
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${ports[name]}/health`).catch(() => null))?.status, { timeout: 30_000, interval: 100 }).toBe(200);
    const healthyMs = Date.now() - killedAt;
    expect((await health(name)).pid).toBe(pidOf(name));
    for (const other of NAMES.filter((n) => n !== name)) expect(pidOf(other)).toBe(before[other]);
    expect(NAMES.map((n) => before[n]).filter((pid, i) => NAMES[i] !== name && !alive(pid))).toEqual([]);
    console.log(`[start.test] ${name}: respawned ${respawnMs} ms, healthy ${healthyMs} ms after SIGKILL`);
  });

  it('Ctrl-C stops every process, workers included', async () => {
    const sfu = await health('sfu');
    const pids = [...NAMES.map((n) => pidOf(n)!), ...(sfu.workers ?? []).map((w) => w.pid)];
    expect(pids).toHaveLength(6);
    expect(pids.filter((pid) => !alive(pid))).toEqual([]);

    process.kill(-child!.pid!, 'SIGINT');
    const [code] = (await once(child!, 'exit')) as [number | null];
    expect(code).toBe(0);
    await expect.poll(() => pids.filter(alive), { timeout: 10_000 }).toEqual([]);
  });
});
