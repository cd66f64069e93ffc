import { readFile } from 'node:fs/promises';
import type { PoolWorker } from './WorkerPool';

/**
 * Share of one core each worker process used between two readings, from its getResourceUsage
 * (user + system CPU time). Each reader keeps its own previous readings (the fleet's heartbeat
 * every second, the metrics' sample round every few seconds), so they never reset each other's.
 */
export class CpuShare {
  /** Per worker pid: CPU ms and wall time at the previous reading. */
  readonly #last = new Map<number, { cpuMs: number; at: number }>();

  /** 0 at the first reading of a worker (nothing to compare with) or when the worker doesn't answer. */
  async read(w: PoolWorker, now = Date.now()): Promise<number> {
    const usage = await w.worker.getResourceUsage().catch(() => undefined);
    if (!usage) return 0;
    const cpuMs = usage.ru_utime + usage.ru_stime;
    const last = this.#last.get(w.worker.pid);
    this.#last.set(w.worker.pid, { cpuMs, at: now });
    return last && now > last.at ? Math.max(0, (cpuMs - last.cpuMs) / (now - last.at)) : 0;
  }

  /** Forgets workers no longer in `pids` (a dead worker's replacement has a new pid). */
  keepOnly(pids: Iterable<number>): void {
    const alive = new Set(pids);
    for (const pid of this.#last.keys()) if (!alive.has(pid)) this.#last.delete(pid);
  }
}

/**
 * The resident memory of a process now (VmRSS of /proc/<pid>/status), in bytes; undefined where
 * there is no /proc (not Linux) or the process is gone. Not getResourceUsage's ru_maxrss: that is
 * the peak since the worker started, which never comes down.
 */
export async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}
