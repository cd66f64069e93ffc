import type { Logger } from '@podlive/shared/logger';
import { Redis } from 'ioredis';
import { BusClosedError, deliver, encodeMessage, type Bus, type BusHandler } from './bus';

export interface RedisBusOptions {
  /** redis:// or rediss:// URL. */
  url: string;
  /** Prepended to every channel, so deployments (or test runs) sharing a Redis stay apart. Default `podlive:`. */
  prefix?: string;
  logger: Logger;
}

interface Subscription {
  handlers: Set<BusHandler>;
  /** Settles when Redis has confirmed the SUBSCRIBE. */
  ready: Promise<unknown>;
}

/**
 * The bus shared by every replica: Redis pub/sub with JSON messages. Publishing uses one
 * connection; a second connection stays in subscriber mode (Redis allows nothing else on it).
 * ioredis reconnects and re-subscribes by itself; messages published while disconnected are lost.
 */
export class RedisBus implements Bus {
  readonly kind = 'redis';
  readonly prefix: string;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #logger: Logger;
  #closed = false;

  constructor(options: RedisBusOptions) {
    this.prefix = options.prefix ?? 'podlive:';
    this.#logger = options.logger.child({ module: 'RedisBus' });
    this.#publisher = new Redis(options.url, { connectionName: 'podlive-bus-pub' });
    this.#subscriber = new Redis(options.url, { connectionName: 'podlive-bus-sub' });
    for (const connection of [this.#publisher, this.#subscriber]) {
      connection.on('error', (err: Error) => this.#logger.warn({ err }, 'redis connection error'));
    }
    this.#subscriber.on('message', (channel: string, text: string) => this.#deliver(channel, text));
  }

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.#closed) throw new BusClosedError();
    await this.#publisher.publish(this.prefix + channel, encodeMessage(message));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.#closed) throw new BusClosedError();
    const full = this.prefix + channel;
    let subscription = this.#subscriptions.get(full);
    if (subscription === undefined) {
      const ready = this.#subscriber.subscribe(full);
      subscription = { handlers: new Set(), ready };
      this.#subscriptions.set(full, subscription);
      ready.catch(() => {
        if (this.#subscriptions.get(full)?.ready === ready) this.#subscriptions.delete(full);
      });
    }
    // A wrapper per call, so subscribing the same function twice gives two independent subscriptions.
    const entry: BusHandler = (message, name) => handler(message, name);
    subscription.handlers.add(entry);
    await subscription.ready;
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      const current = this.#subscriptions.get(full);
      if (current === undefined || !current.handlers.delete(entry) || current.handlers.size > 0) return;
      this.#subscriptions.delete(full);
      if (!this.#closed) await this.#subscriber.unsubscribe(full);
    };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new BusClosedError();
    await this.#publisher.ping();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#subscriptions.clear();
    await Promise.all([this.#publisher, this.#subscriber].map((connection) => connection.quit().catch(() => connection.disconnect())));
  }

  #deliver(full: string, text: string) {
    const subscription = this.#subscriptions.get(full);
    if (subscription === undefined) return;
    const channel = full.slice(this.prefix.length);
    for (const handler of subscription.handlers) deliver(handler, text, channel, this.#logger);
  }
}
