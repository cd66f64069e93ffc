import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The machine a figure was measured on (every result carries it). */
export interface Machine {
  cpuModel: string;
  cores: number;
  memGiB: number;
  os: string;
  node: string;
  date: string;
  commit: string;
}

export interface BenchResult<T = unknown> {
  name: string;
  title: string;
  machine: Machine;
  /** How it was measured, in a few sentences. */
  method: string;
  /** Parts that could not be measured, with the reason. */
  notMeasured: string[];
  wallSeconds: number;
  data: T;
}

export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url));

export function machine(): Machine {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${osType()} ${release()}`,
    node: process.version,
    date: new Date().toISOString(),
    commit,
  };
}

/** Writes results/<name>.json and returns the path. */
export async function writeResult<T>(r: Omit<BenchResult<T>, 'machine'>): Promise<string> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const path = `${RESULTS_DIR}${r.name}.json`;
  await writeFile(path, `${JSON.stringify({ ...r, machine: machine() }, null, 2)}\n`);
  process.stderr.write(`[bench] ${r.name}: wrote ${path}\n`);
  return path;
}
