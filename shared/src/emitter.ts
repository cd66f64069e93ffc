import { EventEmitter } from 'node:events';
import type { Logger } from './logger';

/**
 * A typed emitter whose `safeEmit` never throws: a listener that throws is logged, and the other
 * listeners still run (the idea of mediasoup's EnhancedEventEmitter). The media objects (the SFU's
 * Room, WorkerPool and Fleet, the recorder's Rendition) announce their events with it, so a faulty
 * watcher cannot break the operation that announced (Room.addProducer, a worker's replacement).
 */
export class SafeEmitter<Events extends Record<keyof Events, unknown[]>> extends EventEmitter<Events> {
  constructor(private readonly log: Logger) {
    super();
  }

  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    // rawListeners: `once` wrappers included, so calling one removes it as `emit` would.
    for (const listener of this.rawListeners(event as never) as unknown as ((...a: unknown[]) => unknown)[]) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.log.error({ event, err }, 'event listener threw');
      }
    }
  }
}
