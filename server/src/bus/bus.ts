/** Called for each message on a channel. A handler that throws (or rejects) is logged, never breaks the bus. */
export type BusHandler = (message: unknown, channel: string) => void | Promise<void>;

/**
 * Pub/sub between the parts of the control plane, and between its replicas when Redis is used.
 * Messages are JSON values: what a handler receives is `JSON.parse(JSON.stringify(message))`
 * (dates become strings, undefined properties disappear), whichever implementation runs.
 * Delivery is at most once, in publish order per publisher and channel.
 */
export interface Bus {
  readonly kind: 'in-process' | 'redis';
  /** Sends a message to every subscriber of `channel` (on every replica). */
  publish(channel: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active: a message published after that is delivered. Returns the unsubscribe function. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  /** Rejects when the bus cannot deliver (for health checks). */
  ping(): Promise<void>;
  /** Drops all subscriptions and connections. Calling it twice does nothing. */
  close(): Promise<void>;
}

/** Thrown by publish/subscribe after close(). */
export class BusClosedError extends Error {
  override name = 'BusClosedError';
  constructor() {
    super('The bus is closed');
  }
}

/** The JSON text of a message; throws a TypeError for values JSON cannot carry. */
export function encodeMessage(message: unknown): string {
  const text = JSON.stringify(message);
  if (text === undefined) throw new TypeError('Bus messages must be JSON values');
  return text;
}

/** Runs one handler on one message's text; a throw or a rejection is logged, never propagated. */
export function deliver(handler: BusHandler, text: string, channel: string, logger: { error(obj: object, msg: string): void }): void {
  const fail = (err: unknown) => logger.error({ err, channel }, 'bus handler failed');
  try {
    const result = handler(JSON.parse(text), channel);
    if (result instanceof Promise) result.catch(fail);
  } catch (err) {
    fail(err);
  }
}
