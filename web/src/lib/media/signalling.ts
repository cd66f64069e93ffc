import protooClient from 'protoo-client';
import type { types } from 'mediasoup-client';
import { MediaClient } from '@podlive/shared/media-client';
import type { MediaWire } from '@podlive/shared/protocol';

/** The mediasoup structures in a node's replies, as mediasoup-client types them (see `MediaWire`). */
export interface BrowserWire extends MediaWire {
  rtpCapabilities: types.RtpCapabilities;
  rtpParameters: types.RtpParameters;
  iceParameters: types.IceParameters;
  iceCandidate: types.IceCandidate;
  dtlsParameters: types.DtlsParameters;
}

/** A protoo connection to an SFU node: the shared media client over protoo-client's WebSocket. */
export class Signalling extends MediaClient<BrowserWire, protooClient.Peer> {
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

  onClose(handler: () => void): void {
    this.peer.on('close', handler);
  }

  close(): void {
    this.peer.close();
  }
}
