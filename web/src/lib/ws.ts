import type { WsClientMessage, WsEvent } from '@podlive/shared/ws';

export type LiveSocketState = 'connecting' | 'open' | 'closed';

export interface LiveSocketOptions {
  /** Defaults to same-origin `/ws` (ws: or wss: by the page's protocol). */
  url?: string;
  onState?: (state: LiveSocketState) => void;
}

/** Backoff between reconnects: 0.5 s doubling to 10 s, with ±25 % jitter. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** Keeps idle proxies from closing the socket. */
const PING_INTERVAL_MS = 25_000;

type Listener = (event: WsEvent) => void;

/**
 * The browser's client of the app WebSocket (/ws). It reconnects by itself with backoff and
 * re-sends every subscription after a reconnect, so pages only say what they want to hear about.
 * It sends only the contract's messages (WsClientMessage).
 */
export class LiveSocket {
  readonly #url: string;
  readonly #options: LiveSocketOptions;
  /** sessionId → watch (counts this connection as a viewer). */
  readonly #subscriptions = new Map<string, boolean>();
  readonly #listeners = new Set<Listener>();
  #socket: WebSocket | undefined;
  #attempt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: LiveSocketOptions = {}) {
    this.#options = options;
    this.#url = options.url ?? `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`;
    this.#open();
  }

  /** Receives every event; returns the function that stops it. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  subscribe(sessionId: string, watch: boolean): void {
    this.#subscriptions.set(sessionId, watch);
    this.#send({ type: 'subscribe', sessionId, watch });
  }

  unsubscribe(sessionId: string): void {
    if (!this.#subscriptions.delete(sessionId)) return;
    this.#send({ type: 'unsubscribe', sessionId });
  }

  /**
   * Sends a chat message; false when the socket is not open (the caller keeps it pending and
   * resends with the same clientId, which the server stores once).
   */
  sendChat(sessionId: string, clientId: string, body: string): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#send({ type: 'chat_send', sessionId, clientId, body });
    return true;
  }

  /** Closes for good (no reconnect). Calling it twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#ping);
    this.#socket?.close(1000);
    this.#socket = undefined;
    this.#listeners.clear();
  }

  #open(): void {
    if (this.#closed) return;
    this.#options.onState?.('connecting');
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#attempt = 0;
      this.#options.onState?.('open');
      for (const [sessionId, watch] of this.#subscriptions) this.#send({ type: 'subscribe', sessionId, watch });
      clearInterval(this.#ping);
      this.#ping = setInterval(() => this.#send({ type: 'ping' }), PING_INTERVAL_MS);
    });
    socket.addEventListener('message', (message) => {
      if (typeof message.data !== 'string') return;
      let event: WsEvent;
      try {
        event = JSON.parse(message.data) as WsEvent;
      } catch {
        return;
      }
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (err) {
          console.error('ws: a listener threw', err);
        }
      }
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      clearInterval(this.#ping);
      if (this.#closed) return;
      this.#options.onState?.('closed');
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.#attempt++);
      this.#retry = setTimeout(() => this.#open(), base * (0.75 + Math.random() * 0.5));
    });
  }

  #send(message: WsClientMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
  }
}
