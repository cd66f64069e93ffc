import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, type RateLimiterRes } from 'rate-limiter-flexible';
import type { LoginThrottleConfig } from '../../limits';

/** Counts kept per key without a real cap: the delay, not a refusal, is what the count decides. */
const UNCAPPED = 1_000_000;

/**
 * Growing delays between wrong passwords for one account (see LoginThrottleConfig): counted in
 * Redis when the replicas share one, else in memory. The delay is a short block on a second
 * counter, so it ends by itself; nothing here can lock an account for longer than maxDelaySec.
 */
export class LoginThrottle {
  readonly #config: LoginThrottleConfig;
  readonly #failures: RateLimiterAbstract;
  readonly #waits: RateLimiterAbstract;

  constructor(config: LoginThrottleConfig, redis: Redis | null, prefix: string) {
    this.#config = config;
    const make = (keyPrefix: string, points: number, duration: number) =>
      redis === null
        ? new RateLimiterMemory({ keyPrefix, points, duration })
        : new RateLimiterRedis({ storeClient: redis, keyPrefix: `${prefix}${keyPrefix}`, points, duration });
    this.#failures = make('login-failures', UNCAPPED, config.windowSec);
    this.#waits = make('login-wait', 1, config.maxDelaySec);
  }

  /** Seconds the account must still wait before a try is checked (0: go ahead). */
  async waitSec(account: string): Promise<number> {
    const wait: RateLimiterRes | null = await this.#waits.get(account);
    if (wait === null || wait.consumedPoints <= 1 || wait.msBeforeNext <= 0) return 0;
    return Math.max(1, Math.ceil(wait.msBeforeNext / 1000));
  }

  /** Counts a wrong password and starts the delay it earns. */
  async failed(account: string): Promise<void> {
    const counted = await this.#failures.penalty(account, 1);
    const beyond = counted.consumedPoints - this.#config.freeFailures;
    if (beyond < 0) return;
    await this.#waits.block(account, Math.min(2 ** beyond, this.#config.maxDelaySec));
  }

  /** A right password: the count starts again. */
  async succeeded(account: string): Promise<void> {
    await Promise.all([this.#failures.delete(account), this.#waits.delete(account)]);
  }
}
