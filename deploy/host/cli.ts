import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { install, InstallError, type InstallOptions } from './install';
import { run } from './system';

const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const USAGE = `npm run deploy -- install --domain live.example.com [--email ops@example.com | --local-ca]
    [--listen-ip A] [--public-ip B] [--turn-ip C] [--nodes 1] [--database-url postgres://…]
    [--redis-url redis://127.0.0.1:6379] [--user podlive] [--root /]`;

/** The address of the route out (the host's main address), for --listen-ip's default. */
async function defaultIp(): Promise<string | undefined> {
  const out = await run('ip', ['-j', 'route', 'get', '1.1.1.1']).catch(() => '[]');
  return (JSON.parse(out) as { prefsrc?: string }[])[0]?.prefsrc;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        domain: { type: 'string' },
        email: { type: 'string' },
        'local-ca': { type: 'boolean', default: false },
        'listen-ip': { type: 'string' },
        'public-ip': { type: 'string' },
        'turn-ip': { type: 'string' },
        nodes: { type: 'string', default: '1' },
        'database-url': { type: 'string' },
        'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
        user: { type: 'string', default: 'podlive' },
        root: { type: 'string', default: '/' },
      },
    });
  } catch (err) {
    console.error(`deploy: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values: v, positionals } = parsed;
  if (positionals.join(' ') !== 'install') {
    console.error(`deploy: the only command is install\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error('deploy: install must run as root (it installs packages, a user, configs and units): sudo npm run deploy -- install …');
    return 2;
  }
  const listenIp = v['listen-ip'] ?? (await defaultIp());
  if (listenIp === undefined) {
    console.error('deploy: no route out of this host to find its address from: pass --listen-ip');
    return 2;
  }
  let workerBin: string;
  try {
    workerBin = execFileSync('bash', [join(repo, 'deploy/mediasoup/worker.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  } catch {
    console.error('deploy: no mediasoup-worker binary: run npm run setup first');
    return 2;
  }
  const options: InstallOptions = {
    domain: v.domain ?? '',
    ...(v.email === undefined ? {} : { email: v.email }),
    localCa: v['local-ca'],
    listenIp,
    ...(v['public-ip'] === undefined ? {} : { publicIp: v['public-ip'] }),
    ...(v['turn-ip'] === undefined ? {} : { turnIp: v['turn-ip'] }),
    nodes: Number(v.nodes),
    ...(v['database-url'] === undefined ? {} : { databaseUrl: v['database-url'] }),
    redisUrl: v['redis-url'],
    user: v.user,
    repo,
    workerBin,
    root: v.root,
  };
  try {
    const report = await install(options, (line) => console.log(`[deploy] ${line}`));
    console.log(report.changed.length === 0 ? '[deploy] nothing changed' : `[deploy] changed:\n${report.changed.map((c) => `  ${c}`).join('\n')}`);
    console.log(report.notes.join('\n'));
    return 0;
  } catch (err) {
    if (err instanceof InstallError) {
      console.error(`deploy: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
