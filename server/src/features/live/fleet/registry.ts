import { FLEET_DEAD_AFTER_MS, nodeLoadScore, nodeStatusSchema, parseSessionTree, type FleetKeys, type NodeStatus, type SessionTree } from '@podlive/shared/fleet';
import type { Redis } from 'ioredis';
import type { NodeRef } from '../placement';

/** Called for a heartbeating node whose status does not parse (it is left out of placement). */
export type OnInvalidStatus = (nodeId: string, reason: string) => void;

/** A heartbeat at least this recent (ms since the epoch) makes a node alive. */
export const aliveSince = (now: number) => now - FLEET_DEAD_AFTER_MS;

function parseStatus(nodeId: string, text: string | null, onInvalid: OnInvalidStatus): NodeStatus | null {
  // The status key outlives the heartbeat by a few seconds; gone means long dead.
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    onInvalid(nodeId, 'not JSON');
    return null;
  }
  const parsed = nodeStatusSchema.safeParse(json);
  if (!parsed.success) {
    onInvalid(nodeId, parsed.error.message);
    return null;
  }
  if (parsed.data.id !== nodeId) {
    onInvalid(nodeId, `the status names node ${parsed.data.id}`);
    return null;
  }
  return parsed.data;
}

/**
 * The nodes alive for placement, by id: a heartbeat in the `nodes` sorted set no older than
 * FLEET_DEAD_AFTER_MS (three missed) and a status that parses. Draining nodes are included.
 */
export async function aliveNodes(redis: Redis, keys: FleetKeys, now: number, onInvalid: OnInvalidStatus): Promise<Map<string, NodeStatus>> {
  const ids = await redis.zrangebyscore(keys.nodes, aliveSince(now), '+inf');
  const alive = new Map<string, NodeStatus>();
  if (ids.length === 0) return alive;
  const texts = await redis.mget(ids.map((id) => keys.node(id)));
  ids.forEach((id, i) => {
    const status = parseStatus(id, texts[i] ?? null, onInvalid);
    if (status !== null) alive.set(id, status);
  });
  return alive;
}

/** One node's status when it is alive, else null. */
export async function aliveNode(redis: Redis, keys: FleetKeys, nodeId: string, now: number, onInvalid: OnInvalidStatus): Promise<NodeStatus | null> {
  const [score, text] = await Promise.all([redis.zscore(keys.nodes, nodeId), redis.get(keys.node(nodeId))]);
  if (score === null || Number(score) < aliveSince(now)) return null;
  return parseStatus(nodeId, text, onInvalid);
}

export async function sessionTree(redis: Redis, keys: FleetKeys, sessionId: string): Promise<SessionTree> {
  return parseSessionTree(await redis.hgetall(keys.session(sessionId)));
}

/** Code-unit order, not the locale's: every replica sorts the same ids the same way. */
export const byId = (a: NodeStatus, b: NodeStatus) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
/** Least loaded first (nodeLoadScore), ties by id. */
export const byLoad = (a: NodeStatus, b: NodeStatus) => nodeLoadScore(a) - nodeLoadScore(b) || byId(a, b);

export const toNodeRef = (status: NodeStatus): NodeRef =>
  Object.freeze({ id: status.id, publicWsUrl: status.publicWsUrl.replace(/\/+$/, ''), controlUrl: status.controlUrl.replace(/\/+$/, '') });
