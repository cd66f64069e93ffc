import { EventEmitter } from 'node:events';
import type { Logger } from '@podlive/shared/logger';

/**
 * A typed emitter whose `safeEmit` never throws: a listener that throws is logged, and the other
 * listeners still run (mediasoup's EnhancedEventEmitter does the same).
 */
export class SafeEmitter<Events extends Record<keyof Events, unknown[]>> extends EventEmitter<Events> {
  constructor(private readonly log: Logger) {
    super();
  }

  safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    for (const listener of this.rawListeners(event as never) as unknown as ((...a: unknown[]) => unknown)[]) {
      try {
        listener.apply(this, args);
      } catch (err) {
        this.log.error({ event, err }, 'event listener threw');
      }
    }
  }
}
