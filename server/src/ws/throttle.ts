/**
 * Runs `run(key)` at most once per `intervalMs` per key: the first call runs at once, calls within
 * the interval after a run coalesce into one run at the end of it (leading and trailing edge).
 * A burst therefore gives at most two runs, the last one seeing the final state.
 */
export class KeyedThrottle {
  readonly #last = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly run: (key: string) => void,
  ) {}

  call(key: string): void {
    if (this.#closed || this.#timers.has(key)) return;
    const wait = (this.#last.get(key) ?? -Infinity) + this.intervalMs - Date.now();
    if (wait <= 0) return this.#fire(key);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.#fire(key);
    }, wait);
    timer.unref();
    this.#timers.set(key, timer);
  }

  /** Forgets a key (its pending run is dropped). */
  forget(key: string): void {
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.#last.delete(key);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #fire(key: string): void {
    this.#last.set(key, Date.now());
    this.run(key);
  }
}
