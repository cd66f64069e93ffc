import { spawn } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { FleetKeys } from '@podlive/shared/fleet';
import { parsePrivateKey, publicKeyPem } from '@podlive/shared/tokens';
import { listNodes } from './registry';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');

export interface StartNodeOptions {
  id: string;
  /** Address to listen on for signalling, WebRTC and pipes. */
  ip: string;
  port: number;
  /**
   * The internal listener (/health, /control, the recorder's WebSocket): an address the control
   * plane and the recorder reach, browsers not (default `ip`), and its port (default port + 1).
   */
  controlIp?: string;
  controlPort?: number;
  /** First WebRtcServer port (one per worker, UDP + TCP). */
  rtcPort: number;
  workers?: number;
  region?: string;
  /** Where its output goes (default DATA_DIR/logs/sfu-<id>.log). */
  log?: string;
  /**
   * More environment (the rest comes from ours: REDIS_URL, ...). A node gets the control plane's
   * public key only: MEDIA_TOKEN_PUBLIC_KEY, derived from MEDIA_TOKEN_PRIVATE_KEY when only that is
   * set; the private key itself is never passed on.
   */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Starts one more SFU node on this host as a detached process with the fleet's environment,
 * and resolves once its heartbeat is in the registry (so placement can use it).
 */
export async function startNode(redis: Redis, keys: FleetKeys, o: StartNodeOptions): Promise<{ pid: number; publicWsUrl: string; log: string }> {
  if ((await listNodes(redis, keys)).some((n) => n.id === o.id && n.alive)) throw new Error(`a node ${o.id} is already alive`);
  const log = o.log ?? join(process.env.DATA_DIR ?? join(root, 'data'), 'logs', `sfu-${o.id}.log`);
  mkdirSync(dirname(log), { recursive: true });
  const out = openSync(log, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: join(root, 'sfu'),
    detached: true,
    stdio: ['ignore', out, out],
    env: verifierEnv({
      ...process.env,
      SFU_NODE_ID: o.id, SFU_HOST: o.ip, SFU_PORT: String(o.port), RTC_LISTEN_IP: o.ip, RTC_PORT_BASE: String(o.rtcPort),
      SFU_CONTROL_HOST: o.controlIp ?? o.ip, SFU_CONTROL_PORT: String(o.controlPort ?? o.port + 1),
      ...(o.workers ? { SFU_WORKERS: String(o.workers) } : {}), ...(o.region ? { SFU_REGION: o.region } : {}),
      ...o.env,
    }),
  });
  child.unref();
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`node ${o.id} exited (${signal ?? code}); see ${log}`))));
  exited.catch(() => undefined);
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    const node = (await listNodes(redis, keys)).find((n) => n.id === o.id && n.alive && n.status?.pid === child.pid);
    if (node?.status) return { pid: child.pid ?? 0, publicWsUrl: node.status.publicWsUrl, log };
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
  child.kill('SIGKILL');
  throw new Error(`node ${o.id} did not join the registry within ${Math.round((o.timeoutMs ?? 30_000) / 1000)} s; see ${log}`);
}

/** `env` without the media token private key, with its public key (given, or derived from the private one). */
export function verifierEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { MEDIA_TOKEN_PRIVATE_KEY: privateKey, ...rest } = env;
  if (privateKey && !rest.MEDIA_TOKEN_PUBLIC_KEY) rest.MEDIA_TOKEN_PUBLIC_KEY = publicKeyPem(parsePrivateKey(privateKey));
  return rest;
}
