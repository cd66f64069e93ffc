import type { Logger } from '@podlive/shared/logger';
import { EventEmitter } from 'node:events';
import { BusClosedError, deliver, encodeMessage, type Bus, type BusHandler } from './bus';

/** The bus of a single replica: an EventEmitter, with the same JSON semantics as RedisBus. */
export class InProcessBus implements Bus {
  readonly kind = 'in-process';
  readonly #emitter = new EventEmitter();
  readonly #logger: Logger;
  #closed = false;

  constructor(options: { logger: Logger }) {
    this.#logger = options.logger.child({ module: 'InProcessBus' });
    this.#emitter.setMaxListeners(0);
  }

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.#closed) throw new BusClosedError();
    const text = encodeMessage(message);
    // Each handler gets its own copy, as it would from Redis.
    this.#emitter.emit(channel, text);
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.#closed) throw new BusClosedError();
    const listener = (text: string) => deliver(handler, text, channel, this.#logger);
    this.#emitter.on(channel, listener);
    return async () => {
      this.#emitter.off(channel, listener);
    };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new BusClosedError();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#emitter.removeAllListeners();
  }
}
