import { spawn, type ChildProcess } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CpuCgroup, cpuPercent } from '../bench/lib/cpu-cgroup';
import { processCpuMs as procCpuMs } from '../bench/lib/proc';

// No skip when cgroups are missing: the fan-out bench depends on them, and the machines we run on have them.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('CpuCgroup', () => {
  let busy: ChildProcess | undefined;
  let group: CpuCgroup | undefined;
  afterEach(async () => {
    await group?.close();
    busy?.kill('SIGKILL');
    group = busy = undefined;
  });

  it('confines a busy process to its quota, reports usage and throttling, and removes itself on close', async () => {
    // Busy for 15 s at most: a test runner killed before afterEach must not leave a core-eating orphan.
    busy = spawn(process.execPath, ['-e', 'const end = Date.now() + 15000; while (Date.now() < end);'], { stdio: 'ignore' });
    const pid = busy.pid;
    if (!pid) throw new Error('no pid');
    try {
      group = await CpuCgroup.create({ quota: 0.2, periodUs: 20_000 });
    } catch (err) {
      throw new Error(`cgroups with a writable cpu controller are required here (see deploy/bench/lib/cpu-cgroup.ts): ${(err as Error).message}`);
    }
    await group.add(pid);
    expect(await readFile(`/proc/${pid}/cgroup`, 'utf8')).toContain(group.name);
    await sleep(300); // node's start-up
    const s0 = await group.stats();
    const c0 = await procCpuMs(pid);
    const t0 = performance.now();
    await sleep(2000);
    const s1 = await group.stats();
    const c1 = await procCpuMs(pid);
    const wallMs = performance.now() - t0;
    const share = ((c1 - c0) / wallMs) * 100;
    expect(share).toBeGreaterThan(10);
    expect(share).toBeLessThanOrEqual(30);
    // The group's own accounting agrees with the kernel's per-process figure.
    expect(Math.abs(cpuPercent(s0, s1, wallMs) - share)).toBeLessThan(5);
    // A process that would use a whole core is stopped in (nearly) every period.
    expect(s1.nrThrottled - s0.nrThrottled).toBeGreaterThan(0.8 * (s1.nrPeriods - s0.nrPeriods));
    expect(s1.throttledUs).toBeGreaterThan(s0.throttledUs);

    const path = group.path;
    await group.close();
    await group.close();
    expect(await readFile(`/proc/${pid}/cgroup`, 'utf8')).not.toContain(group.name);
    await expect(access(path)).rejects.toThrow(/ENOENT/);
  });

  it('rejects a quota that is not a positive share of a core', async () => {
    await expect(CpuCgroup.create({ quota: 0 })).rejects.toThrow(TypeError);
    await expect(CpuCgroup.create({ quota: 0.001, periodUs: 100_000 })).rejects.toThrow(/at least 1000/);
  });
});
