/**
 * Recent viewer counts per live, sampled in memory, for "trending": how many watch now and how
 * that moved over the last minutes. The count store only holds the current total (per replica in
 * Redis, summed), so there is no history to read. Each replica samples the fleet-wide totals
 * itself: the history is only a ranking hint, and a restarted replica's few minutes without it
 * (growth 0 until samples accumulate) cost less than another Redis structure to keep in step.
 */
export interface TrendOptions {
  /** Growth is measured against the oldest sample within this window (default 5 minutes). */
  windowMs?: number;
  /** A new sample is kept at most this often per live (default 30 s). */
  sampleEveryMs?: number;
}

interface Sample {
  at: number;
  viewers: number;
}

export class ViewerTrend {
  readonly #samples = new Map<string, Sample[]>();
  readonly windowMs: number;
  readonly sampleEveryMs: number;

  constructor(options: TrendOptions = {}) {
    this.windowMs = options.windowMs ?? 5 * 60_000;
    this.sampleEveryMs = options.sampleEveryMs ?? 30_000;
  }

  /**
   * Records the current totals of the lives that are live (others are forgotten) and returns each
   * one's growth: viewers now minus the oldest sample within the window (0 without history).
   */
  observe(totals: ReadonlyMap<string, number>, now = Date.now()): Map<string, number> {
    for (const id of this.#samples.keys()) if (!totals.has(id)) this.#samples.delete(id);
    const growth = new Map<string, number>();
    for (const [id, viewers] of totals) {
      const samples = (this.#samples.get(id) ?? []).filter((s) => now - s.at <= this.windowMs);
      const last = samples.at(-1);
      if (last === undefined || now - last.at >= this.sampleEveryMs) samples.push({ at: now, viewers });
      this.#samples.set(id, samples);
      growth.set(id, viewers - (samples[0]?.viewers ?? viewers));
    }
    return growth;
  }
}

/** Ranking: viewers now, with growth counted twice (a live gaining viewers beats a bigger flat one). */
export const trendScore = (viewers: number, growth: number) => viewers + 2 * growth;
