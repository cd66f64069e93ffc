/**
 * `npm run bench`: runs each benchmark in its own process, one after another (so they don't
 * measure each other), writes results/<name>.json, then REPORT.md, plots/*.svg and the README's
 * benchmark table (report.ts). A benchmark that fails or overruns its time is recorded as not
 * measured; the others still run. `--only name,name` runs a subset (the report uses every result file).
 */
import { spawn } from 'node:child_process';
import { writeFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RESULTS_DIR, machine } from './lib/result';

const BENCHES: { name: string; file: string; title: string; timeoutS: number }[] = [
  { name: 'fanout', file: 'fanout.ts', title: 'Fan-out capacity per worker core', timeoutS: 420 },
  { name: 'glass-to-glass', file: 'glass-to-glass.ts', title: 'Glass-to-glass latency (Chromium)', timeoutS: 180 },
  { name: 'stage', file: 'stage.ts', title: 'Stage invite', timeoutS: 120 },
  { name: 'stage-ring', file: 'stage-ring.ts', title: 'Stage invite: Invite click → call on screen (Chromium)', timeoutS: 180 },
  { name: 'stage-accept', file: 'stage-accept.ts', title: 'Stage: accept → guest audio at a viewer', timeoutS: 120 },
  { name: 'control-plane', file: 'control-plane.ts', title: 'Control plane', timeoutS: 150 },
  { name: 'join-time', file: 'join-time.ts', title: 'Join time (Chromium)', timeoutS: 300 },
  { name: 'recording', file: 'recording.ts', title: 'Recording', timeoutS: 420 },
  { name: 'lighthouse', file: 'lighthouse.ts', title: 'Lighthouse (Chromium)', timeoutS: 600 },
  { name: 'viewers-100k', file: 'viewers-100k.ts', title: 'The 100,000-viewer simulation', timeoutS: 600 },
];

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const only = values.only?.split(',');
const t0 = performance.now();
await mkdir(RESULTS_DIR, { recursive: true });

for (const b of BENCHES.filter((x) => !only || only.includes(x.name))) {
  const started = performance.now();
  process.stderr.write(`\n[bench] ${b.name} …\n`);
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL(b.file, import.meta.url))], {
      stdio: 'inherit', env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }, detached: true,
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      resolve(`timed out after ${b.timeoutS} s`);
    }, b.timeoutS * 1000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? 'killed');
    });
  });
  const seconds = Math.round((performance.now() - started) / 1000);
  process.stderr.write(`[bench] ${b.name}: exit ${code} in ${seconds} s\n`);
  if (code !== 0) {
    await writeFile(`${RESULTS_DIR}${b.name}.json`, `${JSON.stringify({
      name: b.name, title: b.title, machine: machine(), method: 'see deploy/bench/' + b.file,
      notMeasured: [`the whole benchmark: not measured (the run failed: ${code})`], wallSeconds: seconds, data: null,
    }, null, 2)}\n`);
  }
}

const totalSeconds = Math.round((performance.now() - t0) / 1000);
await writeFile(`${RESULTS_DIR}run.json`, `${JSON.stringify({ machine: machine(), totalSeconds, benches: only ?? BENCHES.map((b) => b.name) }, null, 2)}\n`);
process.stderr.write(`\n[bench] all done in ${totalSeconds} s; writing the report\n`);
const { writeReport } = await import('./report');
await writeReport();
