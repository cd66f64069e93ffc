import type { Redis } from 'ioredis';
import { FLEET_DEAD_AFTER_MS, nodeLoadScore, nodeStatusSchema, type FleetKeys, type NodeStatus } from '@podlive/shared/fleet';

export interface ListedNode {
  id: string;
  /** ms since its last heartbeat. */
  ageMs: number;
  alive: boolean;
  status: NodeStatus | null;
}

/** Every node the registry knows (alive or not yet forgotten), from the same keys placement reads. */
export async function listNodes(redis: Redis, keys: FleetKeys, now = Date.now()): Promise<ListedNode[]> {
  const flat = await redis.zrange(keys.nodes, 0, -1, 'WITHSCORES');
  const nodes: ListedNode[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const id = flat[i] ?? '';
    const beat = Number(flat[i + 1]);
    const text = await redis.get(keys.node(id));
    const parsed = text === null ? null : nodeStatusSchema.safeParse(JSON.parse(text));
    nodes.push({ id, ageMs: now - beat, alive: now - beat <= FLEET_DEAD_AFTER_MS, status: parsed?.success ? parsed.data : null });
  }
  return nodes.sort((a, b) => a.id.localeCompare(b.id));
}

/** A fixed-width table an operator reads in a terminal. */
export function formatNodes(nodes: ListedNode[]): string {
  const rows = [['NODE', 'STATE', 'REGION', 'WS URL', 'PEERS', 'VIEWERS', 'CONSUMERS', 'CAPACITY', 'USED', 'CPU/WORKER', 'EGRESS', 'SESSIONS', 'BEAT']];
  for (const n of nodes) {
    const s = n.status;
    const state = !n.alive ? 'dead' : s?.draining ? 'draining' : 'up';
    rows.push([
      n.id, state, s?.region ?? '-', s?.publicWsUrl ?? '-', String(s?.load.peers ?? '-'),
      s ? String(Object.values(s.sessions).reduce((sum, x) => sum + x.viewers, 0)) : '-',
      String(s?.load.consumers ?? '-'), String(s?.capacity ?? '-'), s ? `${Math.round(nodeLoadScore(s) * 100)}%` : '-',
      s ? s.load.workers.map((w) => `${Math.round(w.cpu * 100)}%`).join(' ') : '-',
      s ? `${(s.load.egressBps / 1e6).toFixed(1)} Mb/s` : '-',
      s ? String(Object.keys(s.sessions).length) : '-',
      `${(n.ageMs / 1000).toFixed(1)} s ago`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}
