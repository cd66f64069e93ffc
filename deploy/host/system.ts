/**
 * What the host installer asks of the machine: packages, the service user, files written only when
 * they differ (so a second run changes nothing), who holds a port. Everything goes through Debian's
 * own tools (dpkg-query, apt-get, useradd, ss, systemctl); nothing here knows about PodLive.
 */
import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export async function run(command: string, args: string[]): Promise<string> {
  return (await exec(command, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

export async function missingPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const p of packages) {
    const status = await run('dpkg-query', ['-W', '-f=${Status}', p]).catch(() => '');
    if (!status.includes('ok installed')) missing.push(p);
  }
  return missing;
}

export async function installPackages(packages: readonly string[]): Promise<void> {
  await run('apt-get', ['update', '-qq']);
  await exec('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024 });
}

export interface Ids {
  uid: number;
  gid: number;
}

export async function idsOf(user: string): Promise<Ids | null> {
  try {
    return { uid: Number((await run('id', ['-u', user])).trim()), gid: Number((await run('id', ['-g', user])).trim()) };
  } catch {
    return null;
  }
}

export async function groupId(group: string): Promise<number | null> {
  const line = await run('getent', ['group', group]).catch(() => '');
  const gid = Number(line.split(':')[2]);
  return line === '' || !Number.isInteger(gid) ? null : gid;
}

/** A system user with no login and no password, home = its data directory. True when created. */
export async function ensureSystemUser(user: string, home: string): Promise<boolean> {
  if ((await idsOf(user)) !== null) return false;
  await run('useradd', ['--system', '--user-group', '--home-dir', home, '--no-create-home', '--shell', '/usr/sbin/nologin', user]);
  return true;
}

export interface FileSpec {
  path: string;
  content: string | Buffer;
  mode: number;
  uid: number;
  gid: number;
}

/** Writes (atomically) only when content, mode or owner differ; true when something changed. */
export async function writeIfChanged(f: FileSpec): Promise<boolean> {
  const want = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
  const have = await readFile(f.path).catch(() => null);
  const st = have === null ? null : await stat(f.path);
  if (have !== null && st !== null && have.equals(want) && (st.mode & 0o7777) === f.mode && st.uid === f.uid && st.gid === f.gid) return false;
  await mkdir(dirname(f.path), { recursive: true });
  const tmp = `${f.path}.podlive-new`;
  // Created with the final mode: a secret is never readable by others, not even for a moment.
  await writeFile(tmp, want, { mode: f.mode & 0o700 });
  await chown(tmp, f.uid, f.gid);
  await chmod(tmp, f.mode);
  await rename(tmp, f.path);
  return true;
}

/** Creates a directory, or fixes its mode and owner; true when something changed. */
export async function ensureDir(path: string, mode: number, uid: number, gid: number): Promise<boolean> {
  const st = await stat(path).catch(() => null);
  if (st !== null && st.isDirectory() && (st.mode & 0o7777) === mode && st.uid === uid && st.gid === gid) return false;
  await mkdir(path, { recursive: true });
  await chown(path, uid, gid);
  await chmod(path, mode);
  return true;
}

export interface PortHolder {
  address: string;
  process: string;
  pid: number | null;
}

/** Who listens on TCP `port` on `address` (or on every address), per `ss`. */
export async function tcpPortHolders(port: number, address: string): Promise<PortHolder[]> {
  const out = await run('ss', ['-Hltnp', `sport = :${port}`]);
  const holders: PortHolder[] = [];
  for (const line of out.split('\n').filter(Boolean)) {
    const local = line.trim().split(/\s+/)[3] ?? '';
    const host = local.slice(0, local.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    if (!['0.0.0.0', '*', '::', address].includes(host)) continue;
    const m = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    holders.push({ address: host, process: m?.[1] ?? 'unknown', pid: m ? Number(m[2]) : null });
  }
  return holders;
}

/** True when systemd is this machine's init (units can be enabled and started). */
export async function systemdRunning(): Promise<boolean> {
  const comm = await readFile('/proc/1/comm', 'utf8').catch(() => '');
  return comm.trim() === 'systemd';
}
