import protooClient from 'protoo-client';
import type { MediaNotifications, MediaRequestMethod } from '@podlive/shared/protocol';

/** A protoo connection to an SFU node, typed by the shared protocol. */
export class Signalling {
  readonly #peer: protooClient.Peer;

  private constructor(peer: protooClient.Peer) {
    this.#peer = peer;
  }

  /** Opens the connection; rejects if the node refuses it (bad or expired token...). */
  static open(url: string): Promise<Signalling> {
    const peer = new protooClient.Peer(new protooClient.WebSocketTransport(url, { retry: { retries: 0 } }));
    // protoo reconnects a dropped WebSocket to the same URL by itself, but the node has forgotten
    // the peer by then (its transports are gone): end the connection instead, so the page gets a
    // new token (maybe for another node) and starts over at once.
    peer.on('disconnected', () => peer.close());
    return new Promise((resolve, reject) => {
      peer.on('open', () => resolve(new Signalling(peer)));
      peer.on('failed', () => reject(new Error('could not connect to the media node')));
    });
  }

  request<T = unknown>(method: MediaRequestMethod, data: object = {}): Promise<T> {
    return this.#peer.request(method, data) as Promise<T>;
  }

  onNotification(handler: <M extends keyof MediaNotifications>(method: M, data: MediaNotifications[M]) => void): void {
    this.#peer.on('notification', (n) => handler(n.method as keyof MediaNotifications, n.data as never));
  }

  onClose(handler: () => void): void {
    this.#peer.on('close', handler);
  }

  close(): void {
    this.#peer.close();
  }
}
