/**
 * The 300-viewer scenario (a bench, not part of npm test): a media node with 2 workers and a
 * synthetic publisher in this process, podlive-load in child processes on the same machine.
 * Prints the load report and what the SFU spent (its workers' CPU, this process's CPU).
 *
 *   node --import tsx load/scenario-300.ts [--viewers 300] [--rate 30] [--duration 20]
 *     [--processes 1] [--video-kbps 500] [--listen] [--json report.json]
 */
import { spawn } from 'node:child_process';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import type { LoadReport } from './report';

process.env.LOG_LEVEL ??= 'warn'; // 300 "peer joined" lines would cost the node more than the media
const { MediaNode } = await import('../src/MediaNode');
const { loadConfig } = await import('../src/config');
const { SyntheticPublisher } = await import('./synthetic-publisher');

const { values } = parseArgs({
  options: {
    viewers: { type: 'string', default: '300' },
    rate: { type: 'string', default: '30' },
    duration: { type: 'string', default: '20' },
    processes: { type: 'string', default: '1' },
    'video-kbps': { type: 'string', default: '500' },
    listen: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const keys = testKeyPair();
const node = await MediaNode.start(loadConfig({
  SFU_PORT: '0', SFU_WORKERS: '2', SFU_NODE_ID: 'bench', MEDIA_TOKEN_PUBLIC_KEY: keys.publicPem, SFU_CONNECTS_PER_MINUTE: '0', // 300 viewers from this one address
  RTC_PORT_BASE: String(await freeRtcPortBase(2)), DATA_DIR: await mkdtemp(join(tmpdir(), 'podlive-bench-')),
}));
const session = 'bench-300';
const publisher = await SyntheticPublisher.start({ node, session, key: keys.privateKey, videoKbps: Number(values['video-kbps']) });
const json = values.json ?? join(await mkdtemp(join(tmpdir(), 'podlive-load-')), 'report.json');

const workers0 = await node.pool.loads();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const args = [
  '--import', 'tsx', cli, '--ws', node.url, `--key=${keys.privatePem}`, '--node', 'bench', '--session', session,
  '--viewers', values.viewers, '--rate', values.rate, '--duration', values.duration, '--processes', values.processes,
  '--json', json, ...(values.listen ? ['--listen'] : []),
];
const code = await new Promise<number | null>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('exit', resolve));
const wallMs = performance.now() - t0;
const workers1 = await node.pool.loads();
const own = process.cpuUsage(cpu0);

const report = JSON.parse(await readFile(json, 'utf8')) as LoadReport;
const pct = (ms: number) => `${Math.round((ms / wallMs) * 1000) / 10} % of a core`;
process.stdout.write(`\nSFU (same machine, ${wallMs / 1000 | 0} s):\n`);
for (const w of workers1) {
  const before = workers0.find((x) => x.index === w.index)?.cpuMs ?? 0;
  process.stdout.write(`  worker ${w.index} (${w.routers} router(s)): ${w.cpuMs - before} ms CPU, ${pct(w.cpuMs - before)}\n`);
}
process.stdout.write(`  node process (signalling + publisher): ${Math.round((own.user + own.system) / 1000)} ms CPU, ${pct((own.user + own.system) / 1000)}\n`);
process.stdout.write(`  publisher sent ${publisher.packetsSent} packets; report: ${json}\n`);
process.stdout.write(`result: ${report.viewers.joined}/${report.viewers.requested} joined, ${report.viewers.receiving} receiving, ${report.viewers.verified} verified, loss ${report.loss.fraction * 100} %\n`);

publisher.close();
await node.close();
process.exit(code ?? 1);
