// Runs one PodLive machine on embedded defaults: control plane (http://localhost:3000, which also
// serves the web app), one SFU node, the recorder and the SvelteKit app. Prints the URLs once
// every /health answers; Ctrl-C stops all of them cleanly (each closes its own resources).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { behindProxyEnv } from '../../web/behind-proxy.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env, DATA_DIR: process.env.DATA_DIR ?? join(root, 'data') };
env.MEDIASOUP_WORKER_BIN ||= execFileSync('bash', [join(root, 'deploy/mediasoup/worker.sh')], { encoding: 'utf8' }).trim();

const port = Number(env.PORT ?? 3000);
const ports = { web: Number(env.WEB_PORT ?? 3001), recorder: Number(env.RECORDER_PORT ?? 3002), sfu: Number(env.SFU_PORT ?? 4443) };
const tsx = ['--import', 'tsx'];
const processes = [
  { name: 'server', cwd: 'server', args: [...tsx, 'src/main.ts'], health: `http://127.0.0.1:${port}/health`, env: { PORT: String(port), WEB_URL: `http://127.0.0.1:${ports.web}`, SFU_URL: `http://127.0.0.1:${ports.sfu}`, RECORDER_URL: `http://127.0.0.1:${ports.recorder}` } },
  { name: 'sfu', cwd: 'sfu', args: [...tsx, 'src/main.ts'], health: `http://127.0.0.1:${ports.sfu}/health`, env: { SFU_PORT: String(ports.sfu) } },
  { name: 'recorder', cwd: 'recorder', args: [...tsx, 'src/main.ts'], health: `http://127.0.0.1:${ports.recorder}/health`, env: { RECORDER_PORT: String(ports.recorder), SERVER_URL: `http://127.0.0.1:${port}` } },
  { name: 'web', cwd: 'web', args: ['build/index.js'], health: `http://127.0.0.1:${ports.web}/health`, env: { PORT: String(ports.web), HOST: '127.0.0.1', ...behindProxyEnv(`http://127.0.0.1:${port}`) } },
];

let stopping = false;
const children = processes.map((p) => {
  const child = spawn(process.execPath, p.args, { cwd: join(root, p.cwd), env: { ...env, ...p.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${p.name}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`[start] ${p.name} exited (${signal ?? code}); stopping the others`);
    void stop(1);
  });
  return child;
});

async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log('[start] stopping…');
  await Promise.all(
    children.map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => (clearTimeout(timer), resolve()));
          child.kill('SIGTERM');
        }),
    ),
  );
  console.log('[start] stopped');
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

async function waitHealthy(url, deadline) {
  while (!stopping && Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!stopping) throw new Error(`${url} did not answer within 60 s`);
}

try {
  const deadline = Date.now() + 60_000;
  await Promise.all(processes.map((p) => waitHealthy(p.health, deadline)));
  if (!stopping) {
    console.log(`
  PodLive is running:   http://localhost:${port}
  health:               ${processes.map((p) => p.health).join('\n                        ')}
  data directory:       ${env.DATA_DIR}
  Ctrl-C stops everything.
`);
  }
} catch (err) {
  console.error(`[start] ${err.message}`);
  await stop(1);
}
