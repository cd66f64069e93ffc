import type { Redis } from 'ioredis';
import {
  CONSUMERS_PER_WORKER, FLEET_HEARTBEAT_MS, FLEET_STATUS_TTL_MS, PARENT_FIELD, chooseParent, fleetKeys, nodeStatusSchema, parseSessionTree,
  type FleetKeys, type NodeStatus,
} from '@podlive/shared/fleet';

/** Consumers one video viewer takes on its node (the host's audio and video). */
const CONSUMERS_PER_VIEWER = 2;

interface SimNode {
  id: string;
  capacity: number;
  /** Viewers per live that have "joined" (every placement on it so far). */
  viewers: Map<string, number>;
  /** Placements already taken in, per live: the placed(sid, node) members seen. */
  seen: Map<string, Set<string>>;
  /** Pipes out to nodes it feeds, per live. */
  children: Map<string, number>;
  /** The most consumers it ever reported. */
  peakConsumers: number;
}

/**
 * A fleet of SFU nodes without media, for the 100,000-viewer simulation: each node heartbeats a
 * NodeStatus into the real registry (the schema the real nodes use) every FLEET_HEARTBEAT_MS, and
 * takes in the viewers the control plane placed on it since (the members of its `placed` sets, as
 * if each one connected at once and stayed), reporting them as consumers (2 per viewer, plus its
 * pipes) and per-live viewers; a node that carries a live attaches to its tree as a real edge does
 * (chooseParent with the relay fan-out), so the tree and the origin's egress are the real ones.
 */
export class SimFleet {
  readonly keys: FleetKeys;
  readonly nodes: SimNode[];
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> = Promise.resolve();

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    o: { nodes: number; workersPerNode: number; fanout: number },
  ) {
    this.keys = fleetKeys(prefix);
    this.fanout = o.fanout;
    this.nodes = Array.from({ length: o.nodes }, (_, i) => ({
      id: `sim-${String(i + 1).padStart(3, '0')}`,
      capacity: CONSUMERS_PER_WORKER * o.workersPerNode,
      viewers: new Map(),
      seen: new Map(),
      children: new Map(),
      peakConsumers: 0,
    }));
  }

  readonly fanout: number;

  /** Registers every node and keeps heartbeating until stop(). */
  async start(): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => {
      this.#ticking = this.#ticking.then(() => this.#tick()).catch((err: unknown) => {
        process.stderr.write(`[sim-fleet] ${(err as Error).message}\n`);
      });
    }, FLEET_HEARTBEAT_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#ticking;
    // A last look, so the figures include the placements of the final second.
    await this.#tick();
  }

  /** Takes in the new placements of `sessions`, attaches to their trees, heartbeats. */
  async #tick(): Promise<void> {
    const sessions = await this.#sessions();
    for (const sid of sessions) {
      for (const node of this.nodes) {
        const members = await this.redis.zrange(this.keys.placed(sid, node.id), 0, -1);
        const seen = node.seen.get(sid) ?? new Set<string>();
        let added = 0;
        for (const m of members) {
          if (seen.has(m)) continue;
          seen.add(m);
          added++;
        }
        node.seen.set(sid, seen);
        if (added > 0) node.viewers.set(sid, (node.viewers.get(sid) ?? 0) + added);
      }
      await this.#attach(sid);
    }
    await this.#beat();
  }

  /** Lives with a tree in the registry (an origin set by the control plane). */
  async #sessions(): Promise<string[]> {
    const found: string[] = [];
    for await (const keys of this.redis.scanStream({ match: this.keys.session('*'), count: 500 }) as AsyncIterable<string[]>) {
      for (const key of keys) if (!key.endsWith(':lock')) found.push(key.slice(this.keys.session('').length));
    }
    return found;
  }

  /** Every node with viewers of `sid` and no parent yet attaches under the node chooseParent names. */
  async #attach(sid: string): Promise<void> {
    const key = this.keys.session(sid);
    const tree = parseSessionTree(await this.redis.hgetall(key));
    for (const node of this.nodes) {
      if ((node.viewers.get(sid) ?? 0) === 0 || node.id === tree.origin || tree.parents.has(node.id)) continue;
      const parent = chooseParent(tree, node.id, this.fanout, () => true);
      if (parent === null) continue;
      await this.redis.hset(key, PARENT_FIELD + node.id, parent);
      tree.parents.set(node.id, parent);
    }
    for (const node of this.nodes) node.children.set(sid, [...tree.parents.values()].filter((p) => p === node.id).length);
  }

  async #beat(): Promise<void> {
    const now = Date.now();
    const multi = this.redis.multi();
    for (const node of this.nodes) {
      const viewers = [...node.viewers.values()].reduce((a, b) => a + b, 0);
      const pipes = [...node.children.values()].reduce((a, b) => a + b, 0);
      const consumers = viewers * CONSUMERS_PER_VIEWER + pipes * CONSUMERS_PER_VIEWER;
      node.peakConsumers = Math.max(node.peakConsumers, consumers);
      const status: NodeStatus = nodeStatusSchema.parse({
        id: node.id, publicWsUrl: `wss://${node.id}.media.sim`, controlUrl: `http://${node.id}.sim:4444`, pipeIp: '10.0.0.1', region: 'sim',
        capacity: node.capacity, draining: false, pid: 1, startedAt: now - 60_000, ts: now,
        load: { peers: viewers, consumers, producers: 0, egressBps: 0, workers: [{ index: 0, pid: 1, routers: node.viewers.size, consumers, producers: 0, cpu: Math.min(1, consumers / node.capacity) * 0.8 }] },
        sessions: Object.fromEntries([...node.viewers].map(([sid, n]) => [sid, { viewers: n, guests: 0, hosts: 0, children: [] }])),
      });
      multi.set(this.keys.node(node.id), JSON.stringify(status), 'PX', FLEET_STATUS_TTL_MS).zadd(this.keys.nodes, now, node.id);
    }
    await multi.exec();
  }

  /** Per node: viewers it took, its peak consumers and capacity, and how many nodes it feeds for `sid`. */
  report(sid: string): Array<{ id: string; viewers: number; peakConsumers: number; capacity: number; feeds: number }> {
    return this.nodes.map((n) => ({ id: n.id, viewers: n.viewers.get(sid) ?? 0, peakConsumers: n.peakConsumers, capacity: n.capacity, feeds: n.children.get(sid) ?? 0 }));
  }
}
