import type { MediaNotification, MediaRequestInput, MediaRequestMethod, MediaResponses, MediaWire } from './protocol';

/** What the client needs of a protoo connection to a node (protoo-client's `Peer` has it). */
export interface ProtooPeerLike {
  request(method: string, data?: unknown): Promise<unknown>;
  on(event: 'notification', listener: (notification: { method: string; data?: unknown }) => void): void;
}

/** A request's data argument: optional where the request has no required data. */
export type MediaRequestArgs<M extends MediaRequestMethod> = undefined extends MediaRequestInput<M> ? [data?: MediaRequestInput<M>] : [data: MediaRequestInput<M>];

/**
 * The media protocol over a protoo connection, typed by method: `request('consume', ...)` takes
 * consume's data and resolves to consume's reply; notifications arrive as one union that
 * `switch (n.method)` narrows. `W` names the library types of the mediasoup structures in the
 * replies (see `MediaWire`); `P` is the connection, kept on `peer` for opening and closing it.
 * Browser, recorder and load tester all talk to nodes through this one client.
 */
export class MediaClient<W extends MediaWire = MediaWire, P extends ProtooPeerLike = ProtooPeerLike> {
  constructor(readonly peer: P) {}

  /** Sends a request; rejects with protoo's error (code + reason) when the node refuses it. */
  async request<M extends MediaRequestMethod>(method: M, ...[data]: MediaRequestArgs<M>): Promise<MediaResponses<W>[M]> {
    return (await this.peer.request(method, data ?? {})) as MediaResponses<W>[M];
  }

  /** Calls `listener` with every notification the node sends on this connection. */
  onNotification(listener: (notification: MediaNotification) => void): void {
    this.peer.on('notification', (n) => listener({ method: n.method, data: n.data } as MediaNotification));
  }
}
