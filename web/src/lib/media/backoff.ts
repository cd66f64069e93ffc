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
