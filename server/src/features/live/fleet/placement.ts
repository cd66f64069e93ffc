import { FLEET_PLACEMENT_WINDOW_MS, fleetKeys, WEBRTC_CAP_FIELD, type FleetKeys, type NodeStatus } from '@podlive/shared/fleet';
import { HLS_PRESENCE_MS } from '@podlive/shared/live';
import type { Logger } from '@podlive/shared/logger';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../errors';
import type { NodeRef, Placement, ViewerPlacementOptions } from '../placement';
import { aliveNode, aliveNodes, byId, byLoad, sessionTree, toNodeRef, type OnInvalidStatus } from './registry';
import { reserveViewer } from './reserve';
import { setOrigin } from './set-origin';

export interface FleetPlacementOptions {
  /** redis:// URL of the registry the nodes heartbeat into. */
  url: string;
  /** REDIS_PREFIX, the same as the nodes'. */
  prefix: string;
  /** SFU_EDGE_LIMIT: viewers of one session per edge before another edge is opened. */
  edgeLimit: number;
  logger: Logger;
}

const noNode = (what: string) => new ApiError('SERVICE_UNAVAILABLE', { message: `No media node can take ${what} now` });

/** A changed origin is written by compare-and-set; this many rounds settle any race between replicas. */
const ORIGIN_ATTEMPTS = 3;

/**
 * Placement over the fleet registry (shared/src/fleet.ts): the nodes heartbeat their status into
 * Redis and maintain the session trees' `parent:` fields; this writes each session's `origin` and
 * records viewer placements. Any number of server replicas may run one each.
 */
export class FleetPlacement implements Placement {
  readonly #redis: Redis;
  readonly #keys: FleetKeys;
  readonly #edgeLimit: number;
  readonly #logger: Logger;
  /** Ids already logged for a bad status, so a broken node is not logged on every request. */
  readonly #reported = new Set<string>();

  constructor(options: FleetPlacementOptions) {
    this.#redis = new Redis(options.url, { connectionName: 'podlive-placement', maxRetriesPerRequest: 2 });
    this.#keys = fleetKeys(options.prefix);
    this.#edgeLimit = options.edgeLimit;
    this.#logger = options.logger.child({ module: 'FleetPlacement' });
    this.#redis.on('error', (err: Error) => this.#logger.warn({ err }, 'redis connection error'));
  }

  readonly #onInvalid: OnInvalidStatus = (nodeId, reason) => {
    if (this.#reported.has(nodeId)) return;
    this.#reported.add(nodeId);
    this.#logger.warn({ nodeId, reason }, 'a heartbeating node’s status does not parse; it gets no placements');
  };

  #alive(now = Date.now()): Promise<Map<string, NodeStatus>> {
    return aliveNodes(this.#redis, this.#keys, now, this.#onInvalid);
  }

  /**
   * The session's origin in the hash when it is alive and not draining (a replica that raced this
   * one already chose it), else the least loaded alive node that is not draining, written by
   * compare-and-set so that replicas resuming the same live at once agree on one node.
   */
  async origin(sessionId: string): Promise<NodeRef> {
    const key = this.#keys.session(sessionId);
    for (let attempt = 0; attempt < ORIGIN_ATTEMPTS; attempt++) {
      const [alive, current] = await Promise.all([this.#alive(), this.#redis.hget(key, 'origin')]);
      const kept = current === null ? undefined : alive.get(current);
      if (kept !== undefined && !kept.draining) return toNodeRef(kept);
      const chosen = [...alive.values()].filter((s) => !s.draining).sort(byLoad)[0];
      if (chosen === undefined) throw noNode('a live');
      if ((await setOrigin(this.#redis, key, current, chosen.id)) === chosen.id) return toNodeRef(chosen);
    }
    throw noNode('a live');
  }

  /**
   * Fills the session's edges in id order up to the edge limit; when all are full, opens a new edge
   * on the least loaded node not carrying the session; then the origin; then the least full edge
   * over the limit. Draining and excluded nodes take nobody, nor does a node at capacity (its
   * reported consumers and the viewers placed on it since, for any live, leave no room for one
   * more viewer's): SERVICE_UNAVAILABLE when every node is full. The decision and its record are
   * one Lua script (see reserve.ts).
   */
  async forViewer(sessionId: string, originNodeId: string, options: ViewerPlacementOptions = {}): Promise<NodeRef> {
    const now = Date.now();
    const [alive, tree] = await Promise.all([this.#alive(now), sessionTree(this.#redis, this.#keys, sessionId)]);
    const originId = originNodeId === '' ? tree.origin : originNodeId;
    const open = (status: NodeStatus) => !status.draining && status.id !== options.exclude;
    const candidates = [...alive.values()].filter((s) => open(s) && s.id !== originId).sort(byId);
    const ranks = new Map([...candidates].sort(byLoad).map((s, rank) => [s.id, rank]));
    const originStatus = originId === null ? undefined : alive.get(originId);
    const candidate = (s: NodeStatus) => ({
      placedKey: this.#keys.placed(sessionId, s.id),
      nodePlacedKey: this.#keys.nodePlaced(s.id),
      room: s.capacity - s.load.consumers,
      // A node reporting the session's room carries it even before it has (re)attached in the tree.
      carrying: tree.parents.has(s.id) || s.sessions[sessionId] !== undefined,
      reportedViewers: s.sessions[sessionId]?.viewers ?? 0,
      reportedAt: s.ts,
      rank: ranks.get(s.id) ?? 0,
    });
    const reserved = await reserveViewer(this.#redis, {
      candidates: candidates.map(candidate),
      origin: originStatus !== undefined && open(originStatus) ? candidate(originStatus) : null,
      now,
      windowMs: FLEET_PLACEMENT_WINDOW_MS,
      limit: this.#edgeLimit,
      member: randomUUID(),
    });
    if (reserved.kind === 'none') throw noNode('this viewer');
    const status = reserved.kind === 'origin' ? originStatus : candidates[reserved.index];
    if (status === undefined) throw new Error(`the placement script answered an unknown node (${JSON.stringify(reserved)})`);
    return toNodeRef(status);
  }

  async node(nodeId: string): Promise<NodeRef | null> {
    if (nodeId === '') return null;
    const status = await aliveNode(this.#redis, this.#keys, nodeId, Date.now(), this.#onInvalid);
    return status === null ? null : toNodeRef(status);
  }

  /** The origin first, then every alive node in the tree or reporting a room for the session, by id. */
  async nodesOf(sessionId: string, originNodeId: string): Promise<NodeRef[]> {
    const [alive, tree] = await Promise.all([this.#alive(), sessionTree(this.#redis, this.#keys, sessionId)]);
    const ids = new Set<string>();
    for (const origin of [originNodeId, tree.origin]) if (origin !== null && origin !== '') ids.add(origin);
    const others = [...alive.values()].filter((s) => tree.parents.has(s.id) || s.sessions[sessionId] !== undefined).sort(byId);
    for (const status of others) ids.add(status.id);
    return [...ids].flatMap((id) => {
      const status = alive.get(id);
      return status === undefined ? [] : [toNodeRef(status)];
    });
  }

  /** `npm run fleet -- cap` writes it into the session's hash (which goes when the live ends). */
  async webrtcCap(sessionId: string): Promise<number | null> {
    const raw = await this.#redis.hget(this.#keys.session(sessionId), WEBRTC_CAP_FIELD);
    const cap = raw === null ? Number.NaN : Number(raw);
    return Number.isInteger(cap) && cap >= 0 ? cap : null;
  }

  /**
   * The viewers every alive node reports for the session, plus those placed on it since its report
   * (not connected yet): a burst of joins cannot all slip under the cap before the next reports.
   * Concurrent joins may still pass it by a few: the cap is a budget, not a hard limit.
   */
  async webrtcViewers(sessionId: string): Promise<number> {
    const alive = [...(await this.#alive()).values()];
    const since = alive.length === 0 ? [] : await Promise.all(alive.map((s) => this.#redis.zcount(this.#keys.placed(sessionId, s.id), s.ts, '+inf')));
    return alive.reduce((sum, s, i) => sum + (s.sessions[sessionId]?.viewers ?? 0) + (since[i] ?? 0), 0);
  }

  /** A sorted set per live (user → until), trimmed as it is written; every replica sees it. */
  async watchingHls(sessionId: string, userId: string): Promise<void> {
    const key = this.#keys.hls(sessionId);
    const now = Date.now();
    await this.#redis.multi().zremrangebyscore(key, '-inf', now).zadd(key, now + HLS_PRESENCE_MS, userId).pexpire(key, HLS_PRESENCE_MS).exec();
  }

  async isWatchingHls(sessionId: string, userId: string): Promise<boolean> {
    const until = await this.#redis.zscore(this.#keys.hls(sessionId), userId);
    return until !== null && Number(until) >= Date.now();
  }

  /** The tree goes; the placement sets expire by themselves within FLEET_PLACEMENT_WINDOW_MS. */
  async ended(sessionId: string): Promise<void> {
    await this.#redis.del(this.#keys.session(sessionId), this.#keys.hls(sessionId));
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
