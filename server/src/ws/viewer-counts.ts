import { VIEWER_COUNT_INTERVAL_MS } from '@podlive/shared/live';
import type { WsEvent } from '@podlive/shared/ws';
import type { CountStore } from './count-store';
import { COUNT_STALE_MS } from './count-store';
import type { LiveEvents } from './events';
import { KeyedThrottle } from './throttle';

export interface ViewerCountsOptions {
  store: CountStore;
  events: LiveEvents;
  /** This replica's id: its field in the store. */
  replicaId: string;
  /** Sends an event to this replica's subscribers of a session. */
  deliver: (sessionId: string, event: WsEvent) => void;
  /** Called with each total pushed (peak bookkeeping). */
  onTotal?: (sessionId: string, total: number) => Promise<void>;
  logger: { warn(obj: object, msg: string): void };
  intervalMs?: number;
}

/**
 * Real-time viewer counts, pushed, throttled. Per replica: the watching viewers per session, where a
 * viewer is a signed-in user (however many tabs) or, for anonymous connections, an address: sockets
 * are free to open, so anonymous ones from one address count once (a household behind one address
 * counts as one; a script opening a thousand sockets too). A user watching through two replicas
 * counts on each.
 * A change is flushed (this replica's count written to the store, a `count_changed` nudge
 * published on the session channel) at most once per interval per session; every replica with
 * subscribers answers a nudge by reading the total and pushing `viewer_count` to its own
 * connections, again at most once per interval per session, and only when the total moved.
 */
export class ViewerCounts {
  /** session → viewer (`user:<id>`, `address:<ip>`) → its watching connections. */
  readonly #watchers = new Map<string, Map<string, Set<object>>>();
  readonly #lastPushed = new Map<string, number>();
  readonly #flush: KeyedThrottle;
  readonly #push: KeyedThrottle;
  readonly #refresh: NodeJS.Timeout;

  constructor(private readonly options: ViewerCountsOptions) {
    const interval = options.intervalMs ?? VIEWER_COUNT_INTERVAL_MS;
    const guard = (what: string) => (sessionId: string) => (err: unknown) => options.logger.warn({ err, sessionId }, `viewer count ${what} failed`);
    this.#flush = new KeyedThrottle(interval, (id) => void this.#write(id).catch(guard('flush')(id)));
    this.#push = new KeyedThrottle(interval, (id) => void this.#pushTotal(id).catch(guard('push')(id)));
    // Keep this replica's entries fresh so the store can tell a dead replica's from a live one's.
    this.#refresh = setInterval(() => {
      for (const id of this.#watchers.keys()) void this.#write(id, false).catch(guard('refresh')(id));
    }, COUNT_STALE_MS / 3);
    this.#refresh.unref();
  }

  /** `key` (a connection of `viewer`) now watches the session; no-op when it already did. */
  watch(sessionId: string, key: object, viewer: string): void {
    const viewers = this.#watchers.get(sessionId) ?? new Map<string, Set<object>>();
    const connections = viewers.get(viewer) ?? new Set<object>();
    if (connections.has(key)) return;
    connections.add(key);
    viewers.set(viewer, connections);
    this.#watchers.set(sessionId, viewers);
    // A viewer's second connection changes no count.
    if (connections.size === 1) this.#flush.call(sessionId);
  }

  unwatch(sessionId: string, key: object, viewer: string): void {
    const viewers = this.#watchers.get(sessionId);
    const connections = viewers?.get(viewer);
    if (viewers === undefined || connections === undefined || !connections.delete(key)) return;
    if (connections.size > 0) return;
    viewers.delete(viewer);
    if (viewers.size === 0) this.#watchers.delete(sessionId);
    this.#flush.call(sessionId);
  }

  /** Some replica's count of the session changed (a nudge arrived). */
  changed(sessionId: string): void {
    this.#push.call(sessionId);
  }

  /** This replica's own viewers per live (its metrics; totals across replicas come from `total`). */
  local(): Map<string, number> {
    return new Map([...this.#watchers].map(([id, viewers]) => [id, viewers.size]));
  }

  total(sessionId: string): Promise<number> {
    return this.options.store.total(sessionId);
  }

  totals(sessionIds: readonly string[]): Promise<Map<string, number>> {
    return this.options.store.totals(sessionIds);
  }

  /** The live ended: its counts go (connections may still be subscribed; they're no longer counted). */
  async ended(sessionId: string): Promise<void> {
    this.#watchers.delete(sessionId);
    this.#lastPushed.delete(sessionId);
    this.#flush.forget(sessionId);
    this.#push.forget(sessionId);
    await this.options.store.clear(sessionId);
  }

  /** This replica has no subscriber of the session left. */
  forget(sessionId: string): void {
    this.#lastPushed.delete(sessionId);
    this.#push.forget(sessionId);
  }

  close(): void {
    clearInterval(this.#refresh);
    this.#flush.close();
    this.#push.close();
  }

  async #write(sessionId: string, nudge = true): Promise<void> {
    const count = this.#watchers.get(sessionId)?.size ?? 0;
    await this.options.store.write(sessionId, this.options.replicaId, count);
    if (nudge) await this.options.events.toSession(sessionId, { type: 'count_changed' });
  }

  async #pushTotal(sessionId: string): Promise<void> {
    const total = await this.options.store.total(sessionId);
    if (this.#lastPushed.get(sessionId) === total) return;
    this.#lastPushed.set(sessionId, total);
    this.options.deliver(sessionId, { type: 'viewer_count', sessionId, viewers: total });
    await this.options.onTotal?.(sessionId, total);
  }
}
