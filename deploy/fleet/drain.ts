import type { Redis } from 'ioredis';
import type { FleetKeys, NodeMessage } from '@podlive/shared/fleet';
import { listNodes } from './registry';

export interface DrainOptions {
  /** Stop the node once nobody is left on it (default), or leave it running, empty and draining. */
  stop: boolean;
  timeoutMs: number;
  progress?: (line: string) => void;
  pollMs?: number;
}

/**
 * Asks a node to drain (a `drain` message on its Redis channel), then follows its heartbeats until
 * it has left the registry (stopped) or, with `stop: false`, has no peers left.
 */
export async function drainNode(redis: Redis, keys: FleetKeys, nodeId: string, o: DrainOptions): Promise<{ ok: boolean; message: string }> {
  const before = (await listNodes(redis, keys)).find((n) => n.id === nodeId);
  if (!before?.alive) return { ok: false, message: `node ${nodeId} is not alive in the registry` };
  const message: NodeMessage = { type: 'drain', stop: o.stop, from: 'operator' };
  const listeners = await redis.publish(keys.rpc(nodeId), JSON.stringify(message));
  if (listeners === 0) return { ok: false, message: `node ${nodeId} is not listening on Redis` };
  const deadline = Date.now() + o.timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const node = (await listNodes(redis, keys)).find((n) => n.id === nodeId);
    if (!node || !node.alive) return { ok: true, message: `node ${nodeId} drained and stopped` };
    const peers = node.status?.load.peers ?? 0;
    if (!o.stop && peers === 0) return { ok: true, message: `node ${nodeId} drained (still running, taking no viewers)` };
    const line = `${nodeId}: ${peers} peer(s) left`;
    if (line !== last) o.progress?.(line);
    last = line;
    await new Promise((resolve) => setTimeout(resolve, o.pollMs ?? 500));
  }
  return { ok: false, message: `node ${nodeId} still has peers after ${Math.round(o.timeoutMs / 1000)} s (hosts and guests stay until their lives end)` };
}
