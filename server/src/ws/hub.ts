import type { WsEvent } from '@podlive/shared/ws';
import type { Bus } from '../bus';
import { type SessionMessage, sessionChannel } from './events';

/** What the hub needs of a /ws connection. */
export interface HubClient {
  send(event: WsEvent): void;
}

interface Channel {
  clients: Set<HubClient>;
  /** The bus subscription (its unsubscribe function once active). */
  subscription: Promise<() => Promise<void>>;
}

export interface WsHubOptions {
  bus: Bus;
  /** A `count_changed` nudge arrived on a session channel. */
  onCountChanged: (sessionId: string) => void;
  /** live_ended arrived on a session channel (before it is delivered). */
  onSessionEnded: (sessionId: string) => void;
  /** The last client of a session channel left this replica. */
  onSessionIdle: (sessionId: string) => void;
  logger: { warn(obj: object, msg: string): void };
}

const SESSION_PREFIX = sessionChannel('');

/**
 * This replica's fan-out: which local clients listen on which bus channel. The first client of a
 * channel subscribes the replica to it on the bus, the last one to leave unsubscribes.
 */
export class WsHub {
  readonly #channels = new Map<string, Channel>();

  constructor(private readonly options: WsHubOptions) {}

  /** Resolves once events published on `channel` reach `client`. */
  async join(channel: string, client: HubClient): Promise<void> {
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const subscription = this.options.bus.subscribe(channel, (message) => this.#dispatch(channel, message as SessionMessage));
      entry = { clients: new Set(), subscription };
      this.#channels.set(channel, entry);
      subscription.catch(() => {
        if (this.#channels.get(channel) === entry) this.#channels.delete(channel);
      });
    }
    entry.clients.add(client);
    await entry.subscription;
  }

  async leave(channel: string, client: HubClient): Promise<void> {
    const entry = this.#channels.get(channel);
    if (entry === undefined || !entry.clients.delete(client) || entry.clients.size > 0) return;
    this.#channels.delete(channel);
    if (channel.startsWith(SESSION_PREFIX)) this.options.onSessionIdle(channel.slice(SESSION_PREFIX.length));
    try {
      await (await entry.subscription)();
    } catch (err) {
      this.options.logger.warn({ err, channel }, 'leaving a bus channel failed');
    }
  }

  /** Sends to this replica's clients of a channel. */
  deliver(channel: string, event: WsEvent): void {
    for (const client of this.#channels.get(channel)?.clients ?? []) client.send(event);
  }

  /** Channels with clients here (for tests and metrics). */
  get channelCount(): number {
    return this.#channels.size;
  }

  #dispatch(channel: string, message: SessionMessage): void {
    if (message.type === 'count_changed') {
      if (channel.startsWith(SESSION_PREFIX)) this.options.onCountChanged(channel.slice(SESSION_PREFIX.length));
      return;
    }
    if (message.type === 'live_ended' && channel.startsWith(SESSION_PREFIX)) this.options.onSessionEnded(channel.slice(SESSION_PREFIX.length));
    this.deliver(channel, message);
  }
}
