/**
 * When to try again after losing the media node. The first retry is quick (the page should be
 * playing again well within 5 s of a node dying) but spread over a window, so the thousands of
 * viewers a dead node drops don't all ask the control plane in the same millisecond; later ones
 * back off, each with jitter for the same reason.
 */
export interface RetrySchedule {
  /** The first retry waits firstMinMs…firstMaxMs (uniformly). */
  firstMinMs: number;
  firstMaxMs: number;
  /** Retry n ≥ 1 waits about baseMs · factor^(n-1), at most maxMs, ± jitter (a fraction). */
  baseMs: number;
  factor: number;
  maxMs: number;
  jitter: number;
}

/** Viewers: 100–500 ms, then about 1, 2, 4, 8, 10, 10… s. */
export const VIEWER_RETRY: RetrySchedule = { firstMinMs: 100, firstMaxMs: 500, baseMs: 1000, factor: 2, maxMs: 10_000, jitter: 0.25 };

/**
 * The host: one studio, no stampede to avoid, and the control plane only moves the live to a new
 * origin once the old one has missed its heartbeats (about 3 s): keep trying about every 1–5 s.
 */
export const HOST_RETRY: RetrySchedule = { firstMinMs: 100, firstMaxMs: 300, baseMs: 1000, factor: 1.5, maxMs: 5000, jitter: 0.2 };

/** The delay before retry number `attempt` (0 = the first retry). `random` is in [0, 1). */
export function retryDelay(attempt: number, schedule: RetrySchedule, random: () => number = Math.random): number {
  if (attempt <= 0) return Math.round(schedule.firstMinMs + (schedule.firstMaxMs - schedule.firstMinMs) * random());
  const nominal = Math.min(schedule.maxMs, schedule.baseMs * schedule.factor ** (attempt - 1));
  return Math.round(nominal * (1 + schedule.jitter * (2 * random() - 1)));
}

export interface RetryOptions {
  /** Attempts in all (the first one included) before giving up. */
  tries: number;
  schedule: RetrySchedule;
  /** An error not worth retrying (the live ended, not allowed...): thrown at once. */
  fatal?: (err: unknown) => boolean;
  /** Checked before each attempt: true stops (→ null). */
  cancelled?: () => boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Runs `attempt` now, and again after each failure per `schedule` until it succeeds, `tries` are
 * spent (the last error is thrown) or `cancelled()` (→ null).
 */
export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T | null> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let n = 0; ; n++) {
    if (options.cancelled?.()) return null;
    try {
      return await attempt();
    } catch (err) {
      if (n + 1 >= options.tries || options.fatal?.(err)) throw err;
    }
    await sleep(retryDelay(n, options.schedule, options.random));
  }
}

/**
 * While a viewer watches HLS (the server had no WebRTC room for it), how often it asks for WebRTC
 * again: about the server's `retryAfterSec`, ±30 % so the viewers sent to HLS together don't all
 * come back in the same second, and never more often than every 2 s.
 */
export const HLS_RECHECK = { jitter: 0.3, minMs: 2000, /** when the server's value is unusable */ defaultSec: 15 };

/** The delay before asking the token route again while on HLS. `random` is in [0, 1). */
export function hlsRecheckDelay(retryAfterSec: number, random: () => number = Math.random): number {
  const sec = Number.isFinite(retryAfterSec) && retryAfterSec > 0 ? retryAfterSec : HLS_RECHECK.defaultSec;
  return Math.max(HLS_RECHECK.minMs, Math.round(sec * 1000 * (1 + HLS_RECHECK.jitter * (2 * random() - 1))));
}
