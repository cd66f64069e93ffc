import { readdir, readFile, readlink } from 'node:fs/promises';
import { sep } from 'node:path';

/**
 * FFmpegs a previous recorder process left running. A recorder killed with SIGKILL takes none of
 * its FFmpegs with it, and once the node stops sending they block on a read for ever, holding
 * their ports and their half-written files. Each runs in its rendition's directory (Rendition
 * spawns it there), so they are found by their working directory under the recorder's, on Linux
 * through /proc; elsewhere there is nothing to find and nothing is done.
 */
export async function findOrphanFfmpegs(workRoot: string): Promise<number[]> {
  const root = workRoot.endsWith(sep) ? workRoot : `${workRoot}${sep}`;
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name)).map(Number);
  const found: number[] = [];
  for (const pid of pids) {
    if (pid === process.pid) continue;
    try {
      const [cwd, comm] = await Promise.all([readlink(`/proc/${pid}/cwd`), readFile(`/proc/${pid}/comm`, 'utf8')]);
      if (comm.trim() === 'ffmpeg' && cwd.startsWith(root)) found.push(pid);
    } catch {
      // Gone meanwhile, or not ours to look at.
    }
  }
  return found;
}

/** Kills what findOrphanFfmpegs finds; returns their pids. */
export async function killOrphanFfmpegs(workRoot: string): Promise<number[]> {
  const pids = await findOrphanFfmpegs(workRoot);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
  return pids;
}
