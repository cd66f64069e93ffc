import { ACCESS_TOKEN_TTL_SEC } from '@podlive/shared/accounts';
import type { Redis } from 'ioredis';

/**
 * Sign-in sessions (refresh-token families, the `sid` of access tokens) ended by logout or a
 * password reset, remembered for as long as an access token of theirs could still be valid.
 * A deny-list rather than a per-user session version: logout must end one session and leave the
 * user's other devices signed in, and the list stays tiny (entries expire with the tokens).
 * In Redis when REDIS_URL is set (every replica sees it at once, restarts included), else in memory.
 */
export class EndedSessions {
  readonly #redis: Redis | null;
  readonly #prefix: string;
  readonly #ttlSec: number;
  /** sid → when it may be forgotten (ms), without Redis. */
  readonly #memory = new Map<string, number>();

  constructor(redis: Redis | null, prefix: string, ttlSec = ACCESS_TOKEN_TTL_SEC) {
    this.#redis = redis;
    this.#prefix = `${prefix}ended-session:`;
    this.#ttlSec = ttlSec;
  }

  async add(sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    if (this.#redis !== null) {
      const batch = this.#redis.multi();
      for (const sid of sessionIds) batch.set(this.#prefix + sid, '1', 'EX', this.#ttlSec);
      await batch.exec();
      return;
    }
    const now = Date.now();
    for (const [sid, until] of this.#memory) if (until <= now) this.#memory.delete(sid);
    for (const sid of sessionIds) this.#memory.set(sid, now + this.#ttlSec * 1000);
  }

  async has(sessionId: string): Promise<boolean> {
    if (this.#redis !== null) return (await this.#redis.exists(this.#prefix + sessionId)) === 1;
    const until = this.#memory.get(sessionId);
    return until !== undefined && until > Date.now();
  }
}
