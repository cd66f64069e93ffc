import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { fleetKeys, nodeStatusSchema, type NodeStatus } from '@podlive/shared/fleet';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';
import type { TestKeyPair } from '@podlive/shared/testing/keys';

const FLEET_CLI = fileURLToPath(new URL('../../deploy/fleet/cli.ts', import.meta.url));
const LOAD_CLI = fileURLToPath(new URL('../../sfu/load/cli.ts', import.meta.url));
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * SFU node processes started the way an operator does (`npm run fleet -- start`), each on its own
 * loopback address, sharing a Redis key prefix of their own with the control plane under test.
 */
export class FleetNodes {
  readonly prefix = `podlive-test:${randomBytes(6).toString('hex')}:`;
  readonly keys = fleetKeys(this.prefix);
  readonly redis = new Redis(REDIS_URL);
  readonly pids = new Map<string, number>();
  readonly #dataDir = mkdtemp(join(tmpdir(), 'podlive-fleet-e2e-'));

  constructor(
    /** The control plane's key pair: the nodes get its public half only. */
    readonly tokenKeys: TestKeyPair,
    readonly nodeEnv: Record<string, string> = {},
  ) {}

  get env(): Record<string, string> {
    return { REDIS_URL, REDIS_PREFIX: this.prefix, MEDIA_TOKEN_PUBLIC_KEY: this.tokenKeys.publicPem, LOG_LEVEL: 'info', ...this.nodeEnv };
  }

  /** The fleet CLI with this fleet's environment. */
  async cli(...args: string[]): Promise<string> {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', FLEET_CLI, ...args], { env: { ...process.env, ...this.env, DATA_DIR: await this.#dataDir } });
    return stdout;
  }

  async start(id: string, ip: string): Promise<void> {
    const out = await this.cli(
      'start', '--id', id, '--ip', ip, '--port', String(await freeTcpPort(ip)), '--control-port', String(await freeTcpPort(ip)), '--rtc-port', String(await freeRtcPortBase(1, ip)), '--workers', '1',
    );
    const pid = Number(/\(pid (\d+)\)/.exec(out)?.[1]);
    if (!pid) throw new Error(`no pid in: ${out}`);
    this.pids.set(id, pid);
  }

  kill(id: string): void {
    process.kill(this.pids.get(id) ?? 0, 'SIGKILL');
  }

  async status(id: string): Promise<NodeStatus | null> {
    const text = await this.redis.get(this.keys.node(id));
    return text === null ? null : nodeStatusSchema.parse(JSON.parse(text));
  }

  /** Viewers of `sid` on a node as it reports them. */
  async viewersOn(id: string, sid: string): Promise<number> {
    return (await this.status(id))?.sessions[sid]?.viewers ?? 0;
  }

  /** Headless viewers (podlive-load) through a control plane's token API; resolves with its JSON report. */
  async headless(apiUrl: string, sid: string, viewers: number, durationSec: number): Promise<LoadReportLike> {
    const json = join(await this.#dataDir, `load-${randomBytes(4).toString('hex')}.json`);
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_CLI, '--url', apiUrl, '--session', sid, '--viewers', String(viewers), '--rate', '5', '--duration', String(durationSec), '--json', json, '--no-progress'], {
      stdio: 'ignore',
    });
    await new Promise((resolve) => child.once('exit', resolve));
    return JSON.parse(await readFile(json, 'utf8')) as LoadReportLike;
  }

  async close(): Promise<void> {
    for (const pid of this.pids.values()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    const keys = await this.redis.keys(`${this.prefix}*`);
    if (keys.length > 0) await this.redis.del(...keys);
    this.redis.disconnect();
  }
}

/** The parts of podlive-load's report these tests read. */
export interface LoadReportLike {
  viewers: { joined: number; receiving: number; failed: number };
  perViewer: { consumers: Record<string, { kind: 'audio' | 'video' }>; counts: { audio: { packets: number }; video: { packets: number } } }[];
}
