/**
 * A CPU quota for other processes (the bench confines the mediasoup worker with it, so the worker
 * saturates at a load the tester on the same machine can still generate): a child cgroup of this
 * process's own, with a CFS quota of `quota` × `periodUs`, usage and throttling read back from it.
 *
 * cgroup v1 (a hierarchy with the `cpu` controller; usage from `cpuacct`, co-mounted or its own
 * hierarchy) and cgroup v2 (`cpu.max`, `cpu.stat`) are handled. Needs write access to the
 * hierarchy (root, or a delegated subtree). `close()` moves the processes back to the parent cgroup
 * and removes the child; calling it twice does nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Cgroups can't be used here (not mounted, no cpu controller, not writable). */
export class CgroupUnavailableError extends Error {
  override name = 'CgroupUnavailableError';
}

export interface CpuCgroupOptions {
  /** Share of one core the group may use per period, 0 < quota (e.g. 0.25 = a quarter of a core). */
  quota: number;
  /** CFS period in µs (default 100 000, as `docker --cpus` and Kubernetes CPU limits use). */
  periodUs?: number;
}

/** Cumulative counters of the group since it was created. */
export interface CpuCgroupStats {
  /** CPU time used by the group's processes, µs. */
  usageUs: number;
  /** Periods in which the group had runnable tasks. */
  nrPeriods: number;
  /** Periods in which it used up its quota and was stopped until the next one. */
  nrThrottled: number;
  /** Total time its tasks were throttled, µs. */
  throttledUs: number;
}

interface Layout {
  version: 1 | 2;
  /** The directory of this process's cgroup that holds the cpu controller's files. */
  cpuParent: string;
  /** Where usage is read (v1: the cpuacct hierarchy, possibly the same as cpuParent). */
  acctParent: string;
}

const PREFIX = 'podlive-bench-';

export class CpuCgroup {
  #closed = false;

  private constructor(
    readonly name: string,
    readonly quota: number,
    readonly periodUs: number,
    private readonly layout: Layout,
  ) {}

  /** cgroup version in use (1 or 2). */
  get version(): 1 | 2 {
    return this.layout.version;
  }

  /** The cgroup directory holding the quota. */
  get path(): string {
    return join(this.layout.cpuParent, this.name);
  }

  static async create(o: CpuCgroupOptions): Promise<CpuCgroup> {
    const periodUs = o.periodUs ?? 100_000;
    if (!(o.quota > 0) || !Number.isFinite(o.quota)) throw new TypeError(`quota must be a share of a core > 0, got ${o.quota}`);
    if (!Number.isInteger(periodUs) || periodUs < 1000 || periodUs > 1_000_000) throw new TypeError(`periodUs must be an integer in [1000, 1000000], got ${periodUs}`);
    const quotaUs = Math.round(o.quota * periodUs);
    if (quotaUs < 1000) throw new TypeError(`quota × periodUs must be at least 1000 µs, got ${quotaUs}`);
    const layout = await findLayout();
    await removeStale(layout);
    const name = `${PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`;
    const group = new CpuCgroup(name, o.quota, periodUs, layout);
    try {
      await mkdir(group.path);
      if (layout.acctParent !== layout.cpuParent) await mkdir(join(layout.acctParent, name));
      if (layout.version === 1) {
        await writeFile(join(group.path, 'cpu.cfs_period_us'), String(periodUs));
        await writeFile(join(group.path, 'cpu.cfs_quota_us'), String(quotaUs));
      } else {
        await writeFile(join(group.path, 'cpu.max'), `${quotaUs} ${periodUs}`);
      }
    } catch (err) {
      await group.close().catch(() => undefined);
      throw new CgroupUnavailableError(`cannot create a cpu cgroup under ${layout.cpuParent}: ${(err as Error).message}`);
    }
    return group;
  }

  /** Moves a process (with all its threads) into the group. */
  async add(pid: number): Promise<void> {
    if (this.#closed) throw new Error('CpuCgroup closed');
    await writeFile(join(this.path, 'cgroup.procs'), String(pid));
    if (this.layout.acctParent !== this.layout.cpuParent) await writeFile(join(this.layout.acctParent, this.name, 'cgroup.procs'), String(pid));
  }

  async stats(): Promise<CpuCgroupStats> {
    const stat = parseKeyValues(await readFile(join(this.path, 'cpu.stat'), 'utf8'));
    if (this.layout.version === 2) {
      return { usageUs: stat.usage_usec ?? 0, nrPeriods: stat.nr_periods ?? 0, nrThrottled: stat.nr_throttled ?? 0, throttledUs: stat.throttled_usec ?? 0 };
    }
    const usageNs = Number((await readFile(join(this.layout.acctParent, this.name, 'cpuacct.usage'), 'utf8')).trim());
    return { usageUs: usageNs / 1000, nrPeriods: stat.nr_periods ?? 0, nrThrottled: stat.nr_throttled ?? 0, throttledUs: (stat.throttled_time ?? 0) / 1000 };
  }

  /** Moves every process still inside back to the parent cgroup, then removes the group. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const dirs = [...new Set([this.layout.cpuParent, this.layout.acctParent])];
    for (const parent of dirs) {
      const child = join(parent, this.name);
      const procs = await readFile(join(child, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter(Boolean)) {
        // A process that exited meanwhile (ESRCH) has left the group by itself.
        await writeFile(join(parent, 'cgroup.procs'), pid).catch(() => undefined);
      }
      await removeDir(child);
    }
  }
}

/** The share of one core used between two samples taken `wallMs` apart, percent. */
export function cpuPercent(a: CpuCgroupStats, b: CpuCgroupStats, wallMs: number): number {
  return wallMs > 0 ? ((b.usageUs - a.usageUs) / 1000 / wallMs) * 100 : NaN;
}

function parseKeyValues(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined) out[key] = Number(value);
  }
  return out;
}

interface Mount {
  root: string;
  point: string;
  fsType: string;
  superOptions: string[];
}

async function mounts(): Promise<Mount[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').filter(Boolean).flatMap((line) => {
    // id parent major:minor root mount-point options [optional fields] - fstype source super-options
    const [left, right] = line.split(' - ');
    const l = left?.split(' ') ?? [];
    const r = right?.split(' ') ?? [];
    const unescape = (s: string) => s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    return l[3] && l[4] && r[0] ? [{ root: unescape(l[3]), point: unescape(l[4]), fsType: r[0], superOptions: (r[2] ?? '').split(',') }] : [];
  });
}

/** This process's cgroup path in each hierarchy: `controllers → path` (v2: the key ''). */
async function ownCgroups(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const line of (await readFile('/proc/self/cgroup', 'utf8')).split('\n').filter(Boolean)) {
    const [, controllers = '', path = '/'] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    for (const c of controllers === '' ? [''] : controllers.split(',')) out.set(c, path);
  }
  return out;
}

function dirOf(m: Mount, path: string): string {
  const rel = m.root !== '/' && path.startsWith(m.root) ? path.slice(m.root.length) : path;
  return join(m.point, rel);
}

async function findLayout(): Promise<Layout> {
  let all: Mount[];
  let own: Map<string, string>;
  try {
    [all, own] = await Promise.all([mounts(), ownCgroups()]);
  } catch (err) {
    throw new CgroupUnavailableError(`cannot read /proc/self/mountinfo or /proc/self/cgroup: ${(err as Error).message}`);
  }
  const v1cpu = all.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('cpu'));
  if (v1cpu) {
    const acct = all.find((m) => m.fsType === 'cgroup' && m.superOptions.includes('cpuacct'));
    if (!acct) throw new CgroupUnavailableError(`cgroup v1 cpu controller at ${v1cpu.point} but no cpuacct hierarchy to read usage from`);
    const cpuParent = dirOf(v1cpu, own.get('cpu') ?? '/');
    const acctParent = dirOf(acct, own.get('cpuacct') ?? '/');
    await checkWritable(cpuParent);
    if (acctParent !== cpuParent) await checkWritable(acctParent);
    return { version: 1, cpuParent, acctParent };
  }
  const v2 = all.find((m) => m.fsType === 'cgroup2');
  if (!v2) throw new CgroupUnavailableError('no cgroup hierarchy with the cpu controller is mounted (neither a v1 "cpu" hierarchy nor cgroup2)');
  const parent = dirOf(v2, own.get('') ?? '/');
  const available = (await readFile(join(parent, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/);
  if (!available.includes('cpu')) throw new CgroupUnavailableError(`cgroup2 at ${v2.point}: the cpu controller is not available in ${parent} (cgroup.controllers: "${available.join(' ').trim()}")`);
  const enabled = (await readFile(join(parent, 'cgroup.subtree_control'), 'utf8').catch(() => '')).split(/\s+/);
  if (!enabled.includes('cpu')) {
    try {
      await writeFile(join(parent, 'cgroup.subtree_control'), '+cpu');
    } catch (err) {
      // A non-root v2 cgroup with processes in it can't enable controllers for children ("no internal processes").
      throw new CgroupUnavailableError(`cgroup2: cannot enable the cpu controller for children of ${parent}: ${(err as Error).message}`);
    }
  }
  await checkWritable(parent);
  return { version: 2, cpuParent: parent, acctParent: parent };
}

async function checkWritable(dir: string): Promise<void> {
  const probe = join(dir, `${PREFIX}probe-${process.pid}-${randomBytes(3).toString('hex')}`);
  try {
    await mkdir(probe);
  } catch (err) {
    throw new CgroupUnavailableError(`cannot create a cgroup in ${dir}: ${(err as Error).message}`);
  }
  await removeDir(probe);
}

/** Groups left by a bench that was killed (its pid is gone); only empty ones can be removed. */
async function removeStale(layout: Layout): Promise<void> {
  for (const parent of new Set([layout.cpuParent, layout.acctParent])) {
    for (const entry of await readdir(parent).catch(() => [])) {
      const pid = Number(new RegExp(`^${PREFIX}(?:probe-)?(\\d+)-`).exec(entry)?.[1]);
      if (!pid || pid === process.pid || alive(pid)) continue;
      await rmdir(join(parent, entry)).catch(() => undefined);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** rmdir, retried briefly: a cgroup is busy for a moment after its last process left. */
async function removeDir(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 50) throw err;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
