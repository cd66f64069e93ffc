import type { types } from 'mediasoup';
import type protooClient from 'protoo-client';
import { RtpHeader } from 'werift';
import { MediaClient } from '@podlive/shared/media-client';
import type { MediaJoin } from '@podlive/shared/live';
import type { NodeWire } from '../src/node-wire';
import type { HostLink } from './host-peer';
import { openSignalling } from './join-source';
import { openRecvTransport, type RecvTransport } from './recv-transport';
import { receiveCapabilities } from './wire';

/** A producer as the node named it. */
export interface RemoteProducer {
  id: string;
  kind: types.MediaKind;
}

/** RTCP packet types 192–223 (RFC 5761): what tells RTCP from RTP on the one muxed port. */
const isRtcp = (buf: Buffer) => buf.length >= 8 && (buf[0] ?? 0) >> 6 === 2 && (buf[1] ?? 0) >= 192 && (buf[1] ?? 0) <= 223;

/**
 * A headless host on any node, the way a browser host gets there: the host's MediaJoin (from
 * POST /api/live/:id/start) opens protoo, then one send WebRtcTransport over werift's ICE and
 * DTLS (the viewers' transport code: ICE controlling against mediasoup's ICE-lite, DTLS client),
 * and `produce` requests. `send()` takes the same plain RTP and RTCP a HostPeer sends and
 * protects it with the transport's SRTP keys. No bandwidth estimation is offered: the
 * publisher sends at its own pace, as a plain RTP host does.
 */
export class RemoteHost implements HostLink<RemoteProducer> {
  readonly producers: RemoteProducer[] = [];
  readonly #rtcpListeners: ((packet: Buffer) => void)[] = [];
  #transport: RecvTransport | undefined;
  #closed = false;

  private constructor(
    private readonly client: MediaClient<NodeWire, protooClient.Peer>,
    private readonly transportId: string,
  ) {}

  static async join(join: Pick<MediaJoin, 'url' | 'token'>): Promise<RemoteHost> {
    const client = new MediaClient<NodeWire, protooClient.Peer>(await openSignalling(join));
    try {
      const caps = await client.request('getRouterRtpCapabilities');
      await client.request('join', { rtpCapabilities: receiveCapabilities(caps) });
      const params = await client.request('createWebRtcTransport', { direction: 'send' });
      const host = new RemoteHost(client, params.id);
      await openRecvTransport({
        params,
        signal: (dtlsParameters) => client.request('connectWebRtcTransport', { transportId: params.id, dtlsParameters: { ...dtlsParameters } }),
        onDatagram: (buf) => host.#onDatagram(buf),
        lap: () => undefined,
      }, (t) => (host.#transport = t));
      return host;
    } catch (err) {
      client.peer.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  async produce(kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<RemoteProducer> {
    const { id } = await this.client.request('produce', {
      transportId: this.transportId,
      kind,
      rtpParameters: { ...rtpParameters },
      appData: { source: kind === 'audio' ? 'mic' : 'camera' },
    });
    const producer = { id, kind };
    this.producers.push(producer);
    return producer;
  }

  /** Protects one RTP packet (header and payload as parts) or RTCP compound packet and sends it. */
  send(packet: Buffer | Buffer[]): void {
    const dtls = this.#transport?.dtls;
    if (this.#closed || !dtls?.srtpStarted) return;
    const parts = Array.isArray(packet) ? packet : [packet];
    const whole = parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts);
    let protectedPacket: Buffer;
    if (isRtcp(whole)) protectedPacket = dtls.srtcp.encrypt(whole);
    else {
      const header = RtpHeader.deSerialize(whole);
      protectedPacket = dtls.srtp.encrypt(whole.subarray(header.payloadOffset), header);
    }
    void dtls.iceTransport.connection.send(protectedPacket).catch(() => undefined);
  }

  /** The node's RTCP (receiver reports, PLI, FIR), decrypted. */
  onRtcp(listener: (packet: Buffer) => void): void {
    this.#rtcpListeners.push(listener);
  }

  #onDatagram(buf: Buffer): void {
    const dtls = this.#transport?.dtls;
    if (!dtls?.srtcp || !isRtcp(buf) || this.#rtcpListeners.length === 0) return;
    let plain: Buffer;
    try {
      plain = dtls.srtcp.decrypt(buf);
    } catch {
      return;
    }
    for (const listener of this.#rtcpListeners) listener(plain);
  }

  /** Closes the signalling (the node closes the producers with the peer) and the transport. Twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.client.peer.close();
    void this.#transport?.dtls.stop().catch(() => undefined);
    void this.#transport?.ice.stop().catch(() => undefined);
  }
}
