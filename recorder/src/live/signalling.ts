import protooClient from 'protoo-client';
import { MediaClient } from '@podlive/shared/media-client';
import { MEDIA_TOKEN_PARAM, type MediaRequestInput, type MediaWire } from '@podlive/shared/protocol';
import type { RecorderStartBody } from '@podlive/shared/recording';
import type { SdpStream } from '../capture/sdp';

/** The node refused the recorder's connection (no such live there, bad token) or was unreachable. */
export class SignallingError extends Error {
  override name = 'SignallingError';
}

/**
 * The mediasoup structures the recorder reads from a node's replies: the router's capabilities,
 * handed back as they came, and a consumer's codecs for FFmpeg's SDP.
 */
export interface RecorderWire extends MediaWire {
  rtpCapabilities: MediaRequestInput<'join'>['rtpCapabilities'];
  rtpParameters: SdpStream['rtpParameters'];
}

/** The recorder's connection to a node. */
export type RecorderClient = MediaClient<RecorderWire, protooClient.Peer>;

/** Joins a live on its origin node as the `recorder` role, with the media token the control plane gave for it. */
export async function joinAsRecorder(node: RecorderStartBody['node'], sessionId: string): Promise<RecorderClient> {
  const url = `${node.url.replace(/^http/, 'ws')}/?${MEDIA_TOKEN_PARAM}=${encodeURIComponent(node.token)}`;
  const peer = new protooClient.Peer(new protooClient.WebSocketTransport(url, { retry: { retries: 0 } }));
  return new Promise((resolve, reject) => {
    peer.on('open', () => resolve(new MediaClient(peer)));
    peer.on('failed', () => {
      peer.close();
      reject(new SignallingError(`node ${node.id} refused or did not answer the recorder for ${sessionId}`));
    });
  });
}
