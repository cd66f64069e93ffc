/**
 * Concurrent calls with the same key share one in-flight promise; a call after it settled starts
 * a new one (nothing is cached beyond the flight). For reads many concurrent invites of one live
 * repeat (the live row, the room's peers), so a burst costs one query instead of one per request.
 */
export class Coalescer<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const promise = load().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, promise);
    return promise;
  }
}
