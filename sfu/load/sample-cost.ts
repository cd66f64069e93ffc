/**
 * What one metrics sample round (StatsSampler.sample) costs with N client consumers (a bench, not
 * part of npm test): a node and a synthetic publisher in this process, podlive-load viewers in a
 * child process (two consumers each). Once every consumer exists it measures 5 s without rounds,
 * then 5 s of rounds back to back, and prints per round: wall time, this process's CPU, and the
 * workers' CPU beyond the media they forward meanwhile.
 *
 *   node --import tsx load/sample-cost.ts [--viewers 100] [--workers 1]
 */
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';

process.env.LOG_LEVEL ??= 'warn';
const { MediaNode } = await import('../src/MediaNode');
const { loadConfig } = await import('../src/config');
const { StatsSampler } = await import('../src/StatsSampler');
const { SyntheticPublisher } = await import('./synthetic-publisher');

const { values } = parseArgs({ options: { viewers: { type: 'string', default: '100' }, workers: { type: 'string', default: '1' } } });
const viewers = Number(values.viewers);
const workers = Number(values.workers);
const WINDOW_MS = 5000;

const keys = testKeyPair();
const node = await MediaNode.start(loadConfig({
  SFU_PORT: '0', SFU_WORKERS: String(workers), SFU_NODE_ID: 'bench', MEDIA_TOKEN_PUBLIC_KEY: keys.publicPem, SFU_CONNECTS_PER_MINUTE: '0',
  RTC_PORT_BASE: String(await freeRtcPortBase(workers)), DATA_DIR: await mkdtemp(join(tmpdir(), 'podlive-bench-')),
  SFU_METRICS_SAMPLE_MS: '60000', // the node's own rounds stay out of the way
}));
const session = 'sample-cost';
const publisher = await SyntheticPublisher.start({ node, session, key: keys.privateKey, videoKbps: 300 });
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const duration = Math.ceil(viewers / 20 + (3 * WINDOW_MS) / 1000 + 10);
const load = spawn(process.execPath, ['--import', 'tsx', cli, '--ws', node.url, `--key=${keys.privatePem}`, '--node', 'bench', '--session', session,
  '--viewers', String(viewers), '--rate', '20', '--duration', String(duration), '--no-progress'], { stdio: ['ignore', 'ignore', 'inherit'] });

const clientConsumers = () => [...node.rooms.values()].reduce((n, room) => n + [...room.peers.values()].reduce((m, p) => m + p.consumers.size, 0), 0);
while (clientConsumers() < 2 * viewers) await sleep(200);
await sleep(2000); // every viewer receiving

const workerCpu = async () => (await node.pool.loads()).reduce((ms, w) => ms + w.cpuMs, 0);
const ownCpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function measure(run: () => Promise<number>) {
  const [w0, c0, t0] = [await workerCpu(), ownCpu(), performance.now()];
  const rounds = await run();
  return { rounds, wallMs: performance.now() - t0, workerMs: (await workerCpu()) - w0, ownMs: ownCpu() - c0 };
}

const idle = await measure(async () => {
  await sleep(WINDOW_MS);
  return 0;
});
const sampler = new StatsSampler(node.metrics, node, 60_000);
const walls: number[] = [];
const busy = await measure(async () => {
  for (const end = performance.now() + WINDOW_MS; performance.now() < end;) {
    const t = performance.now();
    await sampler.sample();
    walls.push(performance.now() - t);
  }
  return walls.length;
});
walls.sort((a, b) => a - b);
const per = (busyMs: number, idleMs: number) => ((busyMs - (idleMs * busy.wallMs) / idle.wallMs) / busy.rounds).toFixed(2);
process.stdout.write(`${clientConsumers()} client consumers, ${workers} worker(s), ${busy.rounds} rounds back to back\n`);
process.stdout.write(`  wall per round: median ${walls[walls.length >> 1]!.toFixed(1)} ms, max ${walls.at(-1)!.toFixed(1)} ms\n`);
process.stdout.write(`  node process CPU per round: ${per(busy.ownMs, idle.ownMs)} ms (beyond its ${(idle.ownMs / (idle.wallMs / 1000)).toFixed(0)} ms/s otherwise)\n`);
process.stdout.write(`  workers' CPU per round: ${per(busy.workerMs, idle.workerMs)} ms (beyond their ${(idle.workerMs / (idle.wallMs / 1000)).toFixed(0)} ms/s forwarding media)\n`);

load.kill('SIGTERM');
publisher.close();
await node.close();
process.exit(0);
