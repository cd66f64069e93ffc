import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeRtcPortBase, waitForTcp } from './ports';

/** A real coturn (Debian's `turnserver`) for tests, with TURN REST API credentials (use-auth-secret). */
export interface Coturn {
  /** Where it listens (UDP and TCP): `turn:127.0.0.1:<port>`. */
  port: number;
  secret: string;
  /** What it logged so far (sessions and their requests with `-V` among extraArgs). */
  log(): string;
  close(): Promise<void>;
}

export interface CoturnOptions {
  listenIp?: string;
  /** TURN over TLS on this port too, with this certificate (PEM files). */
  tls?: { port: number; cert: string; key: string };
  extraArgs?: string[];
}

export async function startCoturn(secret: string, options: CoturnOptions = {}): Promise<Coturn> {
  const ip = options.listenIp ?? '127.0.0.1';
  const port = await freeRtcPortBase(1, ip);
  const relayBase = await freeRtcPortBase(50, ip);
  const dir = await mkdtemp(join(tmpdir(), 'podlive-coturn-'));
  const child: ChildProcess = spawn('turnserver', [
    '-n', '--listening-ip', ip, '--listening-port', String(port), '--relay-ip', ip,
    '--min-port', String(relayBase), '--max-port', String(relayBase + 49),
    '--use-auth-secret', '--static-auth-secret', secret, '--realm', 'podlive.test',
    '--no-cli', ...(options.tls === undefined ? ['--no-tls'] : ['--tls-listening-port', String(options.tls.port), '--cert', options.tls.cert, '--pkey', options.tls.key]), '--no-dtls', '--allow-loopback-peers', '--no-multicast-peers',
    '--pidfile', join(dir, 'turnserver.pid'), '--log-file', 'stdout', '--simple-log',
    ...(options.extraArgs ?? []),
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Up when its TCP listener answers.
  await Promise.all([port, ...(options.tls === undefined ? [] : [options.tls.port])].map((p) => waitForTcp(ip, p, 10_000, 'turnserver'))).catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}: ${output.slice(-2000)}`);
  });
  return {
    port,
    secret,
    log: () => output,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Asks coturn for a relay allocation with these credentials, with coturn's own client
 * (turnutils_uclient, over TCP unless `udp`): true when it was allocated and data went through it.
 */
export async function allocates(port: number, username: string, credential: string, options: { udp?: boolean; host?: string } = {}): Promise<boolean> {
  try {
    await promisify(execFile)('turnutils_uclient', [
      ...(options.udp ? [] : ['-t']), '-y', '-n', '1', '-m', '1', '-l', '100', '-u', username, '-w', credential, '-p', String(port), options.host ?? '127.0.0.1',
    ], { timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}
