import protooClient from 'protoo-client';
import type { MediaNode } from '@podlive/sfu';
import { MediaClient } from '@podlive/shared/media-client';
import type { MediaResponses } from '@podlive/shared/protocol';
import { signMediaToken } from '@podlive/shared/tokens';
import type { RecorderClient, RecorderWire } from '../../src/live/signalling';
import { KEYS } from './control-plane';

export type PlainConsumer = MediaResponses<RecorderWire>['createPlainConsumer'];

/**
 * The recorder's side of the node's protocol, as the recorder service will use it: a protoo peer
 * with a `recorder` media token that consumes producers over PlainTransports (createPlainConsumer),
 * resumes them and asks for key frames.
 */
export class RecorderPeer {
  private constructor(private readonly client: RecorderClient) {}

  static async connect(node: MediaNode, session: string): Promise<RecorderPeer> {
    const token = await signMediaToken(KEYS.privateKey, { sid: session, sub: 'recorder', role: 'recorder', node: node.config.SFU_NODE_ID });
    const transport = new protooClient.WebSocketTransport(`${node.url.replace(/^http/, 'ws')}/?token=${encodeURIComponent(token)}`, { retry: { retries: 0 } });
    const peer = new protooClient.Peer(transport);
    await new Promise<void>((resolve, reject) => {
      peer.on('open', () => resolve());
      peer.on('failed', () => reject(new Error('the node refused the recorder')));
    });
    return new RecorderPeer(new MediaClient(peer));
  }

  /** A paused consumer of `producerId` sending RTP to 127.0.0.1:port and RTCP to port + 1. */
  async consume(producerId: string, port: number): Promise<PlainConsumer> {
    return this.client.request('createPlainConsumer', { producerId, ip: '127.0.0.1', port, rtcpPort: port + 1 });
  }

  async resume(consumerId: string): Promise<void> {
    await this.client.request('resumeConsumer', { consumerId });
  }

  async requestKeyFrame(consumerId: string): Promise<void> {
    await this.client.request('requestKeyFrame', { consumerId });
  }

  close(): void {
    this.client.peer.close();
  }
}
