// Runs one PodLive machine on embedded defaults: control plane (http://localhost:3000, which also
// serves the web app), one SFU node, the recorder and the SvelteKit app. Prints the URLs once
// every /health answers; a process that dies is started again (the others keep running); Ctrl-C
// stops all of them cleanly (each closes its own resources).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { behindProxyEnv } from '../../web/behind-proxy.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const env = { ...process.env, DATA_DIR: process.env.DATA_DIR ?? join(root, 'data') };
env.MEDIASOUP_WORKER_BIN ||= execFileSync('bash', [join(root, 'deploy/mediasoup/worker.sh')], { encoding: 'utf8' }).trim();

// Media tokens: only the control plane signs (MEDIA_TOKEN_PRIVATE_KEY, or a pair generated once in
// DATA_DIR/secrets/). The SFU node and the recorder get the public key alone: derived here when the
// private key is given, else read from DATA_DIR/secrets/MEDIA_TOKEN_PUBLIC_KEY by each of them.
const { MEDIA_TOKEN_PRIVATE_KEY: privateKey, ...verifierEnv } = env;
if (privateKey && !verifierEnv.MEDIA_TOKEN_PUBLIC_KEY) {
  const text = privateKey.trim();
  let key;
  try {
    key = createPrivateKey(text.startsWith('{') ? { key: JSON.parse(text), format: 'jwk' } : text);
  } catch (err) {
    console.error(`[start] MEDIA_TOKEN_PRIVATE_KEY is not a private key (PKCS#8 PEM or JWK): ${err.message}`);
    process.exit(1);
  }
  verifierEnv.MEDIA_TOKEN_PUBLIC_KEY = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
}

const port = Number(env.PORT ?? 3000);
const ports = { web: Number(env.WEB_PORT ?? 3001), recorder: Number(env.RECORDER_PORT ?? 3002), sfu: Number(env.SFU_PORT ?? 4443) };
// The SFU's internal listener (/health, /control, the recorder's WebSocket); browsers use ports.sfu.
ports.sfuControl = Number(env.SFU_CONTROL_PORT ?? ports.sfu + 1);
const tsx = ['--import', 'tsx'];
const processes = [
  { name: 'server', signs: true, cwd: 'server', args: [...tsx, 'src/main.ts'], health: `http://127.0.0.1:${port}/health`, env: { PORT: String(port), WEB_URL: `http://127.0.0.1:${ports.web}`, SFU_URL: `http://127.0.0.1:${ports.sfuControl}`, SFU_PUBLIC_WS_URL: env.SFU_PUBLIC_WS_URL ?? `ws://127.0.0.1:${ports.sfu}`, RECORDER_URL: `http://127.0.0.1:${ports.recorder}` } },
  { name: 'sfu', cwd: 'sfu', args: [...tsx, 'src/main.ts'], health: `http://127.0.0.1:${ports.sfuControl}/health`, env: { SFU_PORT: String(ports.sfu), SFU_CONTROL_PORT: String(ports.sfuControl), SERVER_URL: `http://127.0.0.1:${port}` } },
  { name: 'recorder', cwd: 'recorder', args: [...tsx, 'src/main.ts'], health: `http://127.0.0.1:${ports.recorder}/health`, env: { RECORDER_PORT: String(ports.recorder), SERVER_URL: `http://127.0.0.1:${port}` } },
  { name: 'web', cwd: 'web', args: ['build/index.js'], health: `http://127.0.0.1:${ports.web}/health`, env: { PORT: String(ports.web), HOST: '127.0.0.1', ...behindProxyEnv(`http://127.0.0.1:${port}`) } },
];

let stopping = false;

// A child that exits on its own (a crash, a kill) is started again at once; one that keeps dying
// soon after starting waits longer each time (0.25 s doubling to 8 s), so a broken process doesn't
// spin. The others keep running: one crashed process must not take the machine's lives with it.
const RESTART_DELAY_MS = 250;
const RESTART_DELAY_MAX_MS = 8_000;
/** Up this long, a process counts as healthy again: its next crash restarts it at once. */
const STABLE_AFTER_MS = 30_000;

const children = new Map();

function run(p, delay = RESTART_DELAY_MS) {
  const startedAt = Date.now();
  const child = spawn(process.execPath, p.args, { cwd: join(root, p.cwd), env: { ...(p.signs ? env : verifierEnv), ...p.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.set(p.name, child);
  console.log(`[start] ${p.name} running (pid ${child.pid})`);
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => console.log(`[${p.name}] ${line}`));
  }
  child.on('exit', (code, signal) => {
    if (stopping) return;
    const next = Date.now() - startedAt >= STABLE_AFTER_MS ? RESTART_DELAY_MS : delay;
    console.error(`[start] ${p.name} exited (${signal ?? code}); restarting in ${next} ms`);
    setTimeout(() => {
      if (!stopping) run(p, Math.min(next * 2, RESTART_DELAY_MAX_MS));
    }, next);
  });
}
for (const p of processes) run(p);

async function stop(code) {
  if (stopping) return;
  stopping = true;
  console.log('[start] stopping…');
  await Promise.all(
    [...children.values()].map(
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
