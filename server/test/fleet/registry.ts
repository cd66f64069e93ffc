import { FLEET_DEAD_AFTER_MS, FLEET_STATUS_TTL_MS, fleetKeys, nodeStatusSchema, PARENT_FIELD, type FleetKeys, type NodeStatus, type SessionLoad } from '@podlive/shared/fleet';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';

export const REDIS_URL = 'redis://127.0.0.1:6379';

const prefixes: string[] = [];

/** A fresh key prefix, so tests (and parallel test files) sharing the Redis never see each other's fleet. */
export function randomPrefix(): string {
  const prefix = `podlive-test-${randomBytes(6).toString('hex')}:`;
  prefixes.push(prefix);
  return prefix;
}

const connections: Redis[] = [];
afterAll(async () => {
  // The file's keys go with it (heartbeat sets and trees have no TTL).
  const cleaner = new Redis(REDIS_URL);
  for (const prefix of prefixes.splice(0)) {
    for await (const keys of cleaner.scanStream({ match: `${prefix}*`, count: 500 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await cleaner.del(...keys);
    }
  }
  await cleaner.quit();
  await Promise.all(connections.splice(0).map((redis) => redis.quit()));
});

/** A Redis connection closed after the file's tests. */
export function redisClient(): Redis {
  const redis = new Redis(REDIS_URL);
  connections.push(redis);
  return redis;
}

export interface NodeShape {
  /** Consumers on the node (the load score is consumers / capacity, or the busiest worker's cpu). */
  consumers?: number;
  capacity?: number;
  cpu?: number;
  draining?: boolean;
  /** sid → what the node reports of it (viewers default 0). */
  sessions?: Record<string, Partial<SessionLoad>>;
  publicWsUrl?: string;
  controlUrl?: string;
}

/** A NodeStatus as an sfu node reports it (checked against the shared schema, so the tests feed the real shape). */
export function nodeStatus(id: string, shape: NodeShape = {}, ts = Date.now()): NodeStatus {
  const status: NodeStatus = {
    id,
    publicWsUrl: shape.publicWsUrl ?? `wss://${id}.media.test`,
    controlUrl: shape.controlUrl ?? `http://${id}.internal:4443`,
    pipeIp: '10.0.0.1',
    region: 'test-1',
    capacity: shape.capacity ?? 1000,
    draining: shape.draining ?? false,
    pid: 4242,
    startedAt: ts - 60_000,
    ts,
    load: {
      peers: 0,
      consumers: shape.consumers ?? 0,
      producers: 0,
      egressBps: 0,
      workers: [{ index: 0, pid: 4243, routers: 1, consumers: shape.consumers ?? 0, producers: 0, cpu: shape.cpu ?? 0 }],
    },
    sessions: Object.fromEntries(
      Object.entries(shape.sessions ?? {}).map(([sid, load]) => [sid, { viewers: 0, guests: 0, hosts: 0, children: [], ...load }]),
    ),
  };
  return nodeStatusSchema.parse(status);
}

/** The test side of a fleet: writes what nodes write (status, heartbeat, tree) under one prefix. */
export class FakeFleet {
  readonly keys: FleetKeys;

  constructor(readonly redis: Redis, readonly prefix = randomPrefix()) {
    this.keys = fleetKeys(prefix);
  }

  /** One heartbeat, exactly as a node sends it: its status (with a TTL) and its time in `nodes`. */
  async heartbeat(id: string, shape: NodeShape = {}, at = Date.now()): Promise<NodeStatus> {
    const status = nodeStatus(id, shape, at);
    await this.redis.multi().set(this.keys.node(id), JSON.stringify(status), 'PX', FLEET_STATUS_TTL_MS).zadd(this.keys.nodes, at, id).exec();
    return status;
  }

  /** The node's last heartbeat is older than three missed ones: dead for placement (its status key still there). */
  async stale(id: string): Promise<void> {
    await this.redis.zadd(this.keys.nodes, Date.now() - FLEET_DEAD_AFTER_MS - 500, id);
  }

  /** `edge` attached under `parent` in the session's tree (what the edge writes). */
  async attach(sid: string, edge: string, parent: string): Promise<void> {
    await this.redis.hset(this.keys.session(sid), PARENT_FIELD + edge, parent);
  }

  async tree(sid: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.session(sid));
  }

  /** How many placements `placed(sid, node)` holds. */
  async placed(sid: string, node: string): Promise<number> {
    return this.redis.zcard(this.keys.placed(sid, node));
  }
}
