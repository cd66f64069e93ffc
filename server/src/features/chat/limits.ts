import { CHAT_DUPLICATE_WINDOW_SEC, CHAT_RATE } from '@podlive/shared/chat';
import { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
import { BurstyRateLimiter, type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface ChatLimitsOptions {
  /** Set in a fleet: every replica counts in the same Redis keys. */
  redisUrl: string | undefined;
  /** REDIS_PREFIX, so deployments (and test runs) sharing a Redis stay apart. */
  prefix: string;
}

/**
 * Per-user chat limits with rate-limiter-flexible: in Redis when the server has one (a user
 * talking to two replicas is counted once), in memory otherwise. A Redis outage falls back to an
 * in-memory count per replica (the insurance limiter) rather than refusing or failing every message.
 */
export class ChatLimits {
  readonly #redis: Redis | undefined;
  readonly #rate: BurstyRateLimiter;
  readonly #duplicate: RateLimiterAbstract;

  constructor(options: ChatLimitsOptions) {
    if (options.redisUrl !== undefined) {
      this.#redis = new Redis(options.redisUrl, { connectionName: 'podlive-chat-limits', maxRetriesPerRequest: 2 });
      this.#redis.on('error', () => undefined);
    }
    const limiter = (name: string, points: number, duration: number): RateLimiterAbstract => {
      const memory = new RateLimiterMemory({ keyPrefix: name, points, duration });
      if (this.#redis === undefined) return memory;
      return new RateLimiterRedis({ storeClient: this.#redis, keyPrefix: `${options.prefix}${name}`, points, duration, insuranceLimiter: memory });
    };
    // Fixed windows, not a token bucket (rate-limiter-flexible has none): a plain "3 per 3 s"
    // window refuses a steady one-a-second sender whenever network jitter lands its 4th message
    // a millisecond early. So: one per second, and when that window refuses, up to burst − 1 more
    // from a longer window. A steady sender only ever borrows every other second (≤ 2 per 3 s),
    // so it is never refused; a spammer gets at most `burst` at once and ~1.7/s sustained.
    const burstExtra = CHAT_RATE.burst - CHAT_RATE.perSec;
    this.#rate = new BurstyRateLimiter(
      limiter('chat-rate', CHAT_RATE.perSec, 1),
      limiter('chat-burst', burstExtra, Math.ceil(CHAT_RATE.burst / CHAT_RATE.perSec)),
    );
    this.#duplicate = limiter('chat-dup', 1, CHAT_DUPLICATE_WINDOW_SEC);
  }

  /** Counts a message of `userId`: null when allowed, else seconds until the next one is. */
  rate(userId: string): Promise<number | null> {
    return verdict(this.#rate.consume(userId));
  }

  /** Counts `text` (already normalised) from `userId`: null the first time within the window, else seconds until it may be sent again. */
  duplicate(userId: string, text: string): Promise<number | null> {
    return verdict(this.#duplicate.consume(`${userId}:${createHash('sha256').update(text).digest('base64url')}`));
  }

  async close(): Promise<void> {
    await this.#redis?.quit().catch(() => this.#redis?.disconnect());
  }
}

/** A refusal (a RateLimiterRes) becomes its wait; anything else is a real error and is thrown. */
async function verdict(consumed: Promise<unknown>): Promise<number | null> {
  try {
    await consumed;
    return null;
  } catch (err) {
    if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw err;
  }
}
