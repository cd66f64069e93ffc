import type { StageGuest } from '@podlive/shared/stage';
import { Redis } from 'ioredis';

/** One guest on a session's stage, with where their grant is and which invite put them there. */
export interface GuestEntry {
  guest: StageGuest;
  nodeId: string;
  inviteId: string;
}

/**
 * The stage list: current guests per session. A Redis hash per session when REDIS_URL is set
 * (every replica sees the same list), in-process otherwise. Postgres stays the record (accepted
 * invites with left_at null); this is the fast view, rebuilt from it at start-up.
 */
export interface GuestStore {
  list(sessionId: string): Promise<GuestEntry[]>;
  get(sessionId: string, userId: string): Promise<GuestEntry | null>;
  put(sessionId: string, entry: GuestEntry): Promise<void>;
  /** Adds the entry only when the user has none (a rebuild keeps a live muted flag). */
  putIfAbsent(sessionId: string, entry: GuestEntry): Promise<void>;
  remove(sessionId: string, userId: string): Promise<void>;
  clear(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

export class MemoryGuestStore implements GuestStore {
  readonly #sessions = new Map<string, Map<string, GuestEntry>>();

  async list(sessionId: string): Promise<GuestEntry[]> {
    return [...(this.#sessions.get(sessionId)?.values() ?? [])];
  }

  async get(sessionId: string, userId: string): Promise<GuestEntry | null> {
    return this.#sessions.get(sessionId)?.get(userId) ?? null;
  }

  async put(sessionId: string, entry: GuestEntry): Promise<void> {
    let guests = this.#sessions.get(sessionId);
    if (guests === undefined) this.#sessions.set(sessionId, (guests = new Map()));
    guests.set(entry.guest.id, entry);
  }

  async putIfAbsent(sessionId: string, entry: GuestEntry): Promise<void> {
    if ((await this.get(sessionId, entry.guest.id)) === null) await this.put(sessionId, entry);
  }

  async remove(sessionId: string, userId: string): Promise<void> {
    const guests = this.#sessions.get(sessionId);
    guests?.delete(userId);
    if (guests?.size === 0) this.#sessions.delete(sessionId);
  }

  async clear(sessionId: string): Promise<void> {
    this.#sessions.delete(sessionId);
  }

  async close(): Promise<void> {}
}

export class RedisGuestStore implements GuestStore {
  readonly #redis: Redis;

  constructor(url: string, private readonly prefix: string) {
    this.#redis = new Redis(url, { maxRetriesPerRequest: 2 });
  }

  #key(sessionId: string): string {
    return `${this.prefix}stage:${sessionId}`;
  }

  async list(sessionId: string): Promise<GuestEntry[]> {
    const all = await this.#redis.hgetall(this.#key(sessionId));
    return Object.values(all).map((json) => JSON.parse(json) as GuestEntry);
  }

  async get(sessionId: string, userId: string): Promise<GuestEntry | null> {
    const json = await this.#redis.hget(this.#key(sessionId), userId);
    return json === null ? null : (JSON.parse(json) as GuestEntry);
  }

  async put(sessionId: string, entry: GuestEntry): Promise<void> {
    await this.#redis.hset(this.#key(sessionId), entry.guest.id, JSON.stringify(entry));
  }

  async putIfAbsent(sessionId: string, entry: GuestEntry): Promise<void> {
    await this.#redis.hsetnx(this.#key(sessionId), entry.guest.id, JSON.stringify(entry));
  }

  async remove(sessionId: string, userId: string): Promise<void> {
    await this.#redis.hdel(this.#key(sessionId), userId);
  }

  async clear(sessionId: string): Promise<void> {
    await this.#redis.del(this.#key(sessionId));
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
