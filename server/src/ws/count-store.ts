import { Redis } from 'ioredis';

/**
 * Viewer counts per session, written per replica so a fleet adds them up: each replica writes its
 * own count of watching connections; the total is the sum of the fresh entries.
 */
export interface CountStore {
  /** Sets this replica's count for the session (0 removes it). */
  write(sessionId: string, replicaId: string, count: number): Promise<void>;
  total(sessionId: string): Promise<number>;
  totals(sessionIds: readonly string[]): Promise<Map<string, number>>;
  /** Drops every replica's count (the live ended). */
  clear(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

/** One replica (no Redis): a map. */
export class MemoryCountStore implements CountStore {
  readonly #counts = new Map<string, Map<string, number>>();

  async write(sessionId: string, replicaId: string, count: number): Promise<void> {
    const perReplica = this.#counts.get(sessionId) ?? new Map<string, number>();
    if (count > 0) perReplica.set(replicaId, count);
    else perReplica.delete(replicaId);
    if (perReplica.size > 0) this.#counts.set(sessionId, perReplica);
    else this.#counts.delete(sessionId);
  }

  async total(sessionId: string): Promise<number> {
    let sum = 0;
    for (const count of this.#counts.get(sessionId)?.values() ?? []) sum += count;
    return sum;
  }

  async totals(sessionIds: readonly string[]): Promise<Map<string, number>> {
    return new Map(await Promise.all(sessionIds.map(async (id) => [id, await this.total(id)] as const)));
  }

  async clear(sessionId: string): Promise<void> {
    this.#counts.delete(sessionId);
  }

  async close(): Promise<void> {
    this.#counts.clear();
  }
}

/** An entry older than this is a replica that died without clearing it: ignored, then expired. */
export const COUNT_STALE_MS = 30_000;

/**
 * A fleet: one Redis hash per session (`<prefix>viewers:<session>`), field = replica id, value =
 * `<count>:<written at ms>`. Replicas rewrite their entries at least every COUNT_STALE_MS / 3
 * (ViewerCounts does), so a crashed replica's viewers drop out of the sum within COUNT_STALE_MS.
 */
export class RedisCountStore implements CountStore {
  readonly #redis: Redis;

  constructor(url: string, private readonly prefix: string) {
    this.#redis = new Redis(url, { connectionName: 'podlive-viewer-counts', maxRetriesPerRequest: 2 });
    this.#redis.on('error', () => undefined);
  }

  #key = (sessionId: string) => `${this.prefix}viewers:${sessionId}`;

  async write(sessionId: string, replicaId: string, count: number): Promise<void> {
    const key = this.#key(sessionId);
    if (count <= 0) {
      await this.#redis.hdel(key, replicaId);
      return;
    }
    await this.#redis.multi().hset(key, replicaId, `${count}:${Date.now()}`).pexpire(key, COUNT_STALE_MS * 2).exec();
  }

  async total(sessionId: string): Promise<number> {
    return sumFresh(await this.#redis.hgetall(this.#key(sessionId)));
  }

  async totals(sessionIds: readonly string[]): Promise<Map<string, number>> {
    if (sessionIds.length === 0) return new Map();
    const pipeline = this.#redis.pipeline();
    for (const id of sessionIds) pipeline.hgetall(this.#key(id));
    const results = (await pipeline.exec()) ?? [];
    return new Map(sessionIds.map((id, i) => [id, sumFresh((results[i]?.[1] ?? {}) as Record<string, string>)]));
  }

  async clear(sessionId: string): Promise<void> {
    await this.#redis.del(this.#key(sessionId));
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

function sumFresh(entries: Record<string, string>): number {
  const since = Date.now() - COUNT_STALE_MS;
  let sum = 0;
  for (const value of Object.values(entries)) {
    const [count, at] = value.split(':').map(Number);
    if (count !== undefined && at !== undefined && at >= since && Number.isFinite(count)) sum += count;
  }
  return sum;
}
