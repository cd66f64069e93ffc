import type { Redis } from 'ioredis';
import {
  FLEET_DEAD_AFTER_MS, FLEET_STATUS_TTL_MS, PARENT_FIELD, chooseParent, nodeStatusSchema, parseSessionTree,
  type FleetKeys, type NodeStatus, type SessionTree,
} from '@podlive/shared/fleet';

/** Live nodes as the registry has them now: id → status (draining ones included). */
export type AliveNodes = ReadonlyMap<string, NodeStatus>;

/** Where an edge attaches: under `parent`, or it is the origin itself, or nothing can feed it yet. */
export type Attachment = { parent: string } | { origin: true } | null;

/**
 * This node's side of the Redis registry: its heartbeat (status key with a TTL plus its score in
 * the nodes sorted set), the live nodes, and the session trees it attaches to. Tree changes are
 * optimistic transactions (WATCH/MULTI) on a connection of their own, one at a time.
 */
export class Registry {
  readonly #tx: Redis;
  #txQueue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly redis: Redis,
    readonly keys: FleetKeys,
    readonly nodeId: string,
  ) {
    this.#tx = redis.duplicate({ connectionName: `podlive-sfu-${nodeId}-tx` });
    this.#tx.on('error', () => undefined);
  }

  async heartbeat(status: NodeStatus): Promise<void> {
    await this.redis
      .multi()
      .set(this.keys.node(this.nodeId), JSON.stringify(status), 'PX', FLEET_STATUS_TTL_MS)
      .zadd(this.keys.nodes, status.ts, this.nodeId)
      .exec();
  }

  /** Leaves the registry at once (a clean stop), so nobody waits three heartbeats to notice. */
  async deregister(): Promise<void> {
    await this.redis.multi().zrem(this.keys.nodes, this.nodeId).del(this.keys.node(this.nodeId)).exec();
  }

  async alive(now = Date.now()): Promise<AliveNodes> {
    const ids = await this.redis.zrangebyscore(this.keys.nodes, now - FLEET_DEAD_AFTER_MS, '+inf');
    if (ids.length === 0) return new Map();
    const texts = await this.redis.mget(...ids.map((id) => this.keys.node(id)));
    const alive = new Map<string, NodeStatus>();
    texts.forEach((text, i) => {
      const id = ids[i];
      if (text === null || id === undefined) return;
      const parsed = nodeStatusSchema.safeParse(JSON.parse(text));
      if (parsed.success) alive.set(id, parsed.data);
    });
    return alive;
  }

  async tree(sid: string): Promise<SessionTree> {
    return parseSessionTree(await this.redis.hgetall(this.keys.session(sid)));
  }

  /**
   * Records which node feeds this one for `sid` (chooseParent over the nodes that are alive and
   * not draining), atomically against other edges attaching at the same time.
   */
  attach(sid: string, fanout: number, alive: AliveNodes): Promise<Attachment> {
    return this.#serial(async () => {
      const key = this.keys.session(sid);
      for (let attempt = 0; attempt < 20; attempt++) {
        await this.#tx.watch(key);
        const tree = parseSessionTree(await this.#tx.hgetall(key));
        if (tree.origin === this.nodeId) {
          await this.#tx.unwatch();
          return { origin: true } as const;
        }
        // A draining node feeds nobody new, except the origin (the host is still there).
        const feeds = (id: string) => alive.has(id) && (id === tree.origin || alive.get(id)?.draining === false);
        const parent = chooseParent(tree, this.nodeId, fanout, feeds);
        if (parent === null) {
          await this.#tx.unwatch();
          return null;
        }
        // Written only if nobody changed the tree meanwhile; otherwise read it again.
        if (await this.#tx.multi().hset(key, PARENT_FIELD + this.nodeId, parent).exec()) return { parent };
      }
      throw new Error(`could not attach to session ${sid}: the tree kept changing`);
    });
  }

  /** The live of `sid` ended: every node refuses its room for `holdMs`. */
  async markEnded(sid: string, holdMs: number): Promise<void> {
    await this.redis.set(this.keys.ended(sid), this.nodeId, 'PX', holdMs);
  }

  async isEnded(sid: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.ended(sid))) === 1;
  }

  /** This node no longer carries `sid` (its room closed). */
  async detach(sid: string): Promise<void> {
    await this.redis.hdel(this.keys.session(sid), PARENT_FIELD + this.nodeId);
  }

  close(): void {
    this.#tx.disconnect();
  }

  #serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#txQueue.then(job, job);
    this.#txQueue = run.catch(() => undefined);
    return run;
  }
}
