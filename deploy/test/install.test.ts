import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFile, chmod, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '@podlive/db/testing';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run deploy -- <args>`, as an operator runs it (root: these machines run as root). */
function deploy(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'deploy/host/cli.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path, ...(entry.isDirectory() ? await walk(path) : []));
  }
  return out;
}

/** Every path under `root` with its content hash, mode, owner and modification time. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const shot: Record<string, string> = {};
  for (const path of await walk(root)) {
    const st = await stat(path);
    const hash = st.isFile() ? createHash('sha256').update(await readFile(path)).digest('hex') : 'dir';
    shot[relative(root, path)] = `${hash} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
  }
  return shot;
}

const envOf = (text: string) => Object.fromEntries(text.split('\n').filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const idOf = async (flag: '-u' | '-g', user: string) => Number((await exec('id', [flag, user])).stdout.trim());

describe('npm run deploy -- install (deploy/host)', () => {
  let root = '';
  let testDb: TestDb;
  let args: string[] = [];
  let first: Run;
  const started: ChildProcess[] = [];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'podlive-host-'));
    // The service user must get through to its data directory under the test's root.
    await chmod(root, 0o755);
    testDb = await createTestDb('postgres');
    args = ['install', '--domain', 'podlive.test', '--local-ca', '--listen-ip', '127.0.0.1', '--turn-ip', '127.0.0.2', '--database-url', testDb.databaseUrl!, '--redis-url', 'redis://127.0.0.1:6379/9', '--root', root];
  });

  afterAll(async () => {
    for (const child of started) if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    await Promise.all(started.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : null)));
    await testDb?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it.each([
    ['no --domain', ['--domain', ''], /--domain is required/],
    ['a domain that is not a host name', ['--domain', 'live example!'], /--domain must be a host name/],
    ['the TURN address equal to the main one', ['--turn-ip', '127.0.0.1'], /--turn-ip must be a second address/],
    ['no media node', ['--nodes', '0'], /--nodes must be 1 to 16/],
    ['a database URL that is not PostgreSQL', ['--database-url', 'mysql://x'], /--database-url must be postgres/],
  ])('refuses %s with exit 2 and a message naming the fix, writing nothing', async (_, override, message) => {
    const bad = [...args];
    const at = bad.indexOf(override[0] as string);
    if (at === -1) bad.push(...override);
    else bad.splice(at, 2, ...override);
    const result = await deploy(bad);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses when another program holds a port it needs (80 here), naming the program, writing nothing', async () => {
    const holder: Server = createServer();
    await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(80, '127.0.0.1', resolve));
    try {
      const result = await deploy(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`port 80 on 127\\.0\\.0\\.1 is held by .* \\(pid ${process.pid}\\).*stop and disable`));
      expect(await readdir(root)).toEqual([]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('installs configs, secrets and units; a second run changes nothing', async () => {
    first = await deploy(args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/changed:[\s\S]*\/etc\/podlive\/podlive\.env/);
    // What to open in the firewall, TURN over TLS on 443 of the second address included.
    expect(first.stdout).toMatch(/tcp 80, 443 on 127\.0\.0\.1/);
    expect(first.stdout).toMatch(/tcp 443 on 127\.0\.0\.2\s+TURN over TLS/);
    const before = await snapshot(root);

    const second = await deploy(args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/nothing changed/);
    expect(await snapshot(root)).toEqual(before);

    // Secrets: generated, long, readable by root and the service user's group only.
    const envFile = join(root, 'etc/podlive/podlive.env');
    const env = envOf(await readFile(envFile, 'utf8'));
    for (const name of ['JWT_ACCESS_SECRET', 'JWT_REFRESH_SECRET', 'TURN_SECRET']) expect(env[name]?.length).toBeGreaterThanOrEqual(32);
    const st = await stat(envFile);
    expect([st.mode & 0o777, st.uid, st.gid]).toEqual([0o640, 0, await idOf('-g', 'podlive')]);
    expect(env.PUBLIC_URL).toBe('https://podlive.test');
    expect(env.TURN_URLS).toBe('turn:turn.podlive.test:3478?transport=udp,turn:turn.podlive.test:3478?transport=tcp,turns:turn.podlive.test:443?transport=tcp');

    // coturn checks the credentials the control plane signs: the same secret, file not world-readable.
    const turnConf = join(root, 'etc/turnserver.conf');
    expect(await readFile(turnConf, 'utf8')).toContain(`static-auth-secret=${env.TURN_SECRET}`);
    expect((await stat(turnConf)).mode & 0o007).toBe(0);

    // Caddy: the site, the TURN name's certificate, and 443 left free on the TURN address.
    const caddyfile = join(root, 'etc/caddy/Caddyfile');
    const caddyText = await readFile(caddyfile, 'utf8');
    expect(caddyText).toMatch(/default_bind 127\.0\.0\.1/);
    expect(caddyText).toMatch(/^turn\.podlive\.test \{/m);
    await exec('caddy', ['validate', '--config', caddyfile, '--adapter', 'caddyfile'], { env: { ...process.env, HOME: root } });
  });

  it('keeps settings added to the env file by hand when it runs again', async () => {
    const envFile = join(root, 'etc/podlive/podlive.env');
    const before = envOf(await readFile(envFile, 'utf8'));
    await appendFile(envFile, 'SFU_EDGE_LIMIT=400\n');
    expect((await deploy(args)).code).toBe(0);
    const after = envOf(await readFile(envFile, 'utf8'));
    expect(after).toEqual({ ...before, SFU_EDGE_LIMIT: '400' });
    expect((await deploy(args)).stdout).toMatch(/nothing changed/);
  });

  it('writes units that systemd-analyze verify accepts', async () => {
    const dir = join(root, 'etc/systemd/system');
    const units = (await readdir(dir)).filter((f) => !f.endsWith('@.service')).map((f) => join(dir, f));
    // The template is verified through an instance of it.
    units.push(join(dir, 'podlive-sfu@node1.service'));
    // Unknown keys and bad values are only warnings (exit 0): any output at all fails the test.
    const result = await exec('systemd-analyze', ['verify', '--man=no', ...units]).catch((err: { stdout: string; stderr: string }) => err);
    expect(`${result.stdout}${result.stderr}`).toBe('');
  });

  it('starts every process the way its unit does (as the service user, from the env files): each answers /health', async () => {
    const dir = join(root, 'etc/systemd/system');
    // Paths in the env files are absolute on a real host; here they live under the test's root.
    const underRoot = (value: string) => (/^\/(var|usr|etc)\//.test(value) ? join(root, value) : value);
    const startUnit = async (unit: string, instance: string) => {
      const text = (await readFile(join(dir, unit), 'utf8')).replaceAll('%i', instance);
      const field = (key: string) => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1] as string);
      const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
      for (const file of field('EnvironmentFile')) Object.assign(env, envOf(await readFile(underRoot(file), 'utf8')));
      for (const pair of field('Environment')) env[pair.slice(0, pair.indexOf('='))] = pair.slice(pair.indexOf('=') + 1);
      for (const key of ['DATA_DIR', 'MEDIASOUP_WORKER_BIN']) if (env[key] !== undefined) env[key] = underRoot(env[key]);
      env.LOG_LEVEL = 'warn';
      const [command, ...rest] = (field('ExecStart')[0] as string).split(' ');
      const child = spawn('runuser', ['-u', field('User')[0] as string, '--', 'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), command as string, ...rest], {
        cwd: field('WorkingDirectory')[0],
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: runuser's child is killed with it.
        detached: true,
      });
      let log = '';
      for (const stream of [child.stdout, child.stderr]) stream?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-3000)));
      started.push(child);
      return () => log;
    };
    const healthy = async (port: number, logOf: () => string) => {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`nothing answered on ${port}:\n${logOf()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    // The control plane first: it makes the media token key pair the others read from DATA_DIR.
    await healthy(3000, await startUnit('podlive-server.service', ''));
    await Promise.all([
      healthy(3001, await startUnit('podlive-web.service', '')),
      healthy(3002, await startUnit('podlive-recorder.service', '')),
      healthy(4444, await startUnit('podlive-sfu@.service', 'node1')),
    ]);
    // Each serves /metrics on its fixed port, on 127.0.0.1 (Prometheus on this host scrapes them).
    const scraped = await Promise.all([9464, 9465, 9474].map(async (port) => /^# TYPE process_cpu_seconds_total counter$/m.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())));
    expect(scraped).toEqual([true, true, true]);
    // The data directory belongs to the service user, who wrote the control plane's secrets there.
    const secrets = await stat(join(root, 'var/lib/podlive/secrets'));
    expect(secrets.uid).toBe(await idOf('-u', 'podlive'));
  }, 150_000);
});
