/**
 * Headless viewers added to one session in steps: each step forks one more podlive-load process
 * (sfu/load, in its cluster-child mode, so it reports its cumulative counts over IPC every second)
 * for the new viewers; earlier ones stay. The bench reads the summed counts and the processes' CPU
 * at the edges of its measuring window, and kills them all at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHILD_ENV } from '../../../sfu/load/cluster';
import type { Progress } from '../../../sfu/load/runner';
import { processCpuMs } from './proc';
import { sleep } from './stats';

const CLI = fileURLToPath(new URL('../../../sfu/load/cli.ts', import.meta.url));

export interface ViewerLoadOptions {
  /** The media node's ws URL, the private key (PEM) viewer tokens are minted with, its node id. */
  ws: string;
  key: string;
  node: string;
  session: string;
  listen: boolean;
  /** Joins started per second (per step). */
  rate: number;
}

type ChildMessage = { type: 'progress'; progress: Progress } | { type: 'result' } | { type: 'error'; message: string };

interface Tester {
  child: ChildProcess;
  viewers: number;
  progress: Progress;
  error?: string;
  exited: boolean;
}

const ZERO: Progress = { started: 0, joined: 0, failed: 0, receiving: 0, verifiedViewers: 0, packets: 0, bytes: 0, lost: 0 };

export class ViewerLoad {
  readonly #testers: Tester[] = [];
  #closed = false;

  constructor(private readonly o: ViewerLoadOptions) {}

  get viewers(): number {
    return this.#testers.reduce((n, t) => n + t.viewers, 0);
  }

  /** Starts `count` more viewers and resolves once each of them joined or failed (or `timeoutMs` passed). */
  async add(count: number, timeoutMs = 60_000): Promise<void> {
    if (this.#closed) throw new Error('ViewerLoad closed');
    const o = this.o;
    const args = ['--ws', o.ws, `--key=${o.key}`, '--node', o.node, '--session', o.session, '--viewers', String(count),
      '--rate', String(o.rate), '--duration', '3600', '--offset', String(this.viewers), '--no-progress', ...(o.listen ? ['--listen'] : [])];
    const child = fork(CLI, args, { execArgv: ['--import', 'tsx'], env: { ...process.env, [CHILD_ENV]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const tester: Tester = { child, viewers: count, progress: { ...ZERO }, exited: false };
    this.#testers.push(tester);
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') tester.progress = m.progress;
      else if (m.type === 'error') tester.error = m.message;
    });
    child.on('exit', (code) => {
      tester.exited = true;
      if (!this.#closed) tester.error ??= `podlive-load exited with ${code}`;
    });
    const deadline = Date.now() + timeoutMs;
    while (tester.progress.joined + tester.progress.failed < count && !tester.exited && Date.now() < deadline) await sleep(100);
  }

  /** The counts of every viewer so far, summed over the processes (each at most 1 s old). */
  progress(): Progress {
    const total = { ...ZERO };
    for (const t of this.#testers) for (const key of Object.keys(total) as (keyof Progress)[]) total[key] += t.progress[key];
    return total;
  }

  /** Errors the tester processes reported (a process that died, a failure of its run). */
  errors(): string[] {
    return this.#testers.flatMap((t) => (t.error ? [t.error] : []));
  }

  /** CPU time the tester processes used so far, ms (from /proc/<pid>/stat). */
  async cpuMs(): Promise<number> {
    const each = await Promise.all(this.#testers.map((t) => (t.child.pid ? processCpuMs(t.child.pid) : 0)));
    return each.reduce((a, b) => a + b, 0);
  }

  /** Kills every tester process (the viewers' transports are closed on the node's side by the caller). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#testers.map((t) => {
      if (t.exited) return undefined;
      const gone = new Promise<void>((resolve) => t.child.once('exit', () => resolve()));
      t.child.kill('SIGKILL');
      return gone;
    }));
  }
}
