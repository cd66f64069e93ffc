import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';
import { KEYS } from './helpers';

const SFU_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface NodeHealth {
  status: string;
  pid: number;
  peers: number;
  workers: { pid: number }[];
}

/**
 * A media node as its own process (`node src/main.ts`, as `npm start` runs it), so that a test can
 * see whether something a client sends ends it. Tokens verified with KEYS' public key (the only key it gets), node id `node-t`, one worker.
 */
export class NodeProcess {
  #output = '';
  readonly exited: Promise<number | string>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly controlUrl: string,
    readonly dataDir: string,
  ) {
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (d: Buffer) => (this.#output += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  }

  static async start(env: Record<string, string> = {}): Promise<NodeProcess> {
    const [port, controlPort, rtcPort, dataDir] = await Promise.all([freeTcpPort(), freeTcpPort(), freeRtcPortBase(1), mkdtemp(join(tmpdir(), 'podlive-sfu-process-'))]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: SFU_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        SFU_PORT: String(port), SFU_CONTROL_PORT: String(controlPort), RTC_PORT_BASE: String(rtcPort), SFU_WORKERS: '1',
        SFU_NODE_ID: 'node-t', MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, DATA_DIR: dataDir, LOG_LEVEL: 'warn', REDIS_URL: '', ...env,
      },
    });
    const node = new NodeProcess(child, `http://127.0.0.1:${port}`, `http://127.0.0.1:${controlPort}`, dataDir);
    const deadline = Date.now() + 30_000;
    let gone = false;
    void node.exited.then(() => (gone = true));
    while (!gone && Date.now() < deadline) {
      if (await node.health().then(() => true, () => false)) return node;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await node.stop();
    throw new Error(`the node process did not come up:\n${node.output}`);
  }

  get output(): string {
    return this.#output;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async health(): Promise<NodeHealth> {
    const response = await fetch(`${this.controlUrl}/health`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`/health answered ${response.status}`);
    return (await response.json()) as NodeHealth;
  }

  async stop(): Promise<void> {
    if (this.alive) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(timer);
    }
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
