import protooClient from 'protoo-client';
import { MEDIA_TOKEN_PARAM } from '@podlive/shared/protocol';
import { signMediaToken } from '@podlive/shared/tokens';

/** The node refused the recorder's connection (no such live there, bad token) or was unreachable. */
export class SignallingError extends Error {
  override name = 'SignallingError';
}

/** Joins a live on its origin node as the `recorder` role, with a token this recorder signs. */
export async function joinAsRecorder(secret: string, node: { id: string; url: string }, sessionId: string): Promise<protooClient.Peer> {
  const token = await signMediaToken(secret, { sid: sessionId, sub: 'recorder', role: 'recorder', node: node.id });
  const url = `${node.url.replace(/^http/, 'ws')}/?${MEDIA_TOKEN_PARAM}=${encodeURIComponent(token)}`;
  const peer = new protooClient.Peer(new protooClient.WebSocketTransport(url, { retry: { retries: 0 } }));
  return new Promise((resolve, reject) => {
    peer.on('open', () => resolve(peer));
    peer.on('failed', () => {
      peer.close();
      reject(new SignallingError(`node ${node.id} refused or did not answer the recorder for ${sessionId}`));
    });
  });
}
