import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childArgs, type LoadOptions } from './options';
import { buildReport, type LoadReport } from './report';
import { runViewers, type Progress, type RunHooks, type RunResult } from './runner';

/** Messages a child process sends its parent over IPC. */
type ChildMessage = { type: 'progress'; progress: Progress } | { type: 'result'; result: RunResult } | { type: 'error'; message: string };

export const CHILD_ENV = 'PODLIVE_LOAD_CHILD';
const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));

/** Runs the load in this process, or spread over `o.processes` children, and builds the report. */
export async function runLoad(o: LoadOptions, hooks: RunHooks = {}): Promise<LoadReport> {
  if (o.processes <= 1) return buildReport(o, [await runViewers(o, hooks)]);
  const k = Math.min(o.processes, o.viewers);
  const shares = Array.from({ length: k }, (_, i) => Math.floor(o.viewers / k) + (i < o.viewers % k ? 1 : 0));
  const latest: (Progress | undefined)[] = new Array(k).fill(undefined);
  let offset = o.offset;
  const runs = shares.map((n, i) => {
    const args = childArgs(o, n, o.rate / k, offset, o.duration);
    offset += n;
    return runChild(args, (p) => {
      latest[i] = p;
      hooks.progress?.(sumProgress(latest));
    });
  });
  return buildReport(o, await Promise.all(runs));
}

function runChild(args: string[], onProgress: (p: Progress) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = fork(CLI, args, { execArgv: ['--import', 'tsx'], env: { ...process.env, [CHILD_ENV]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: RunResult | undefined;
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'progress') onProgress(m.progress);
      else if (m.type === 'result') result = m.result;
      else reject(new Error(`load child failed: ${m.message}`));
    });
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`load child exited with ${code} and no result`))));
  });
}

function sumProgress(all: (Progress | undefined)[]): Progress {
  const total: Progress = { started: 0, joined: 0, failed: 0, receiving: 0, verifiedViewers: 0, packets: 0, bytes: 0, lost: 0 };
  for (const p of all) {
    if (!p) continue;
    for (const key of Object.keys(total) as (keyof Progress)[]) total[key] += p[key];
  }
  return total;
}

/** A child's main: run its share and report over IPC. */
export async function childMain(o: LoadOptions): Promise<void> {
  const send = (m: ChildMessage) => new Promise<void>((resolve) => process.send?.(m, () => resolve()));
  try {
    const result = await runViewers(o, { progress: (progress) => void send({ type: 'progress', progress }) });
    await send({ type: 'result', result });
  } catch (err) {
    await send({ type: 'error', message: (err as Error).message });
  }
  process.disconnect();
}
