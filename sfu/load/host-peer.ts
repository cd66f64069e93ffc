import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';
import type protooClient from 'protoo-client';
import { signMediaToken, type TokenSigningKey } from '@podlive/shared/tokens';
import type { MediaNode } from '../src/MediaNode';
import type { Peer } from '../src/Peer';
import type { Room } from '../src/Room';
import { openSignalling } from './join-source';

export interface HostPeerOptions {
  node: MediaNode;
  session: string;
  /** The control plane's private key: the host's media token is minted with it. */
  key: TokenSigningKey;
  /** The host's user id, its token subject: how its peer is found in the room (default `load-publisher`). */
  userId?: string;
}

const HOST_SUB = 'load-publisher';

/**
 * What a headless publisher needs of its way into a node: produce, then send RTP and RTCP (each
 * packet's parts as one datagram), hear the node's RTCP. A HostPeer (in-process node, plain RTP)
 * or a RemoteHost (any node, over WebRTC as a browser host) is one.
 */
export interface HostLink<P = unknown> {
  readonly producers: P[];
  produce(kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<P>;
  send(packet: Buffer | Buffer[]): void;
  onRtcp(listener: (packet: Buffer) => void): void;
  close(): void;
}

/**
 * The part every headless host shares, on an in-process node: it joins the session as the host over
 * protoo (so the room exists and viewers see it), opens a PlainTransport on the room's main router
 * (comedia, RTCP muxed) and a UDP socket connected to it, and registers its producers with the
 * room as the `produce` request handler does. The caller produces, then sends RTP and RTCP with
 * `send()`. The node's RTCP (receiver reports, PLI, FIR) arrives on `onRtcp`.
 */
export class HostPeer implements HostLink<types.Producer> {
  readonly producers: types.Producer[] = [];
  #closed = false;

  private constructor(
    private readonly room: Room,
    private readonly peer: Peer,
    private readonly transport: types.PlainTransport,
    private readonly socket: Socket,
    private readonly signalling: protooClient.Peer,
  ) {}

  static async join(o: HostPeerOptions): Promise<HostPeer> {
    const sub = o.userId ?? HOST_SUB;
    const token = await signMediaToken(o.key, { sid: o.session, sub, role: 'host', node: o.node.config.SFU_NODE_ID });
    const signalling = await openSignalling({ url: o.node.url, token });
    let transport: types.PlainTransport | undefined;
    try {
      const room = o.node.rooms.get(o.session);
      const peer = room && [...room.peers.values()].find((p) => p.claims.sub === sub);
      if (!room || !peer) throw new Error(`host peer not found in room ${o.session} after joining`);
      transport = await room.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
      const socket = createSocket('udp4');
      // ICMP "port unreachable" once the node is gone surfaces here: the host just stops mattering.
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      socket.connect(transport.tuple.localPort, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      return new HostPeer(room, peer, transport, socket, signalling);
    } catch (err) {
      transport?.close();
      signalling.close();
      throw err;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Produces on the transport; the room (and, in a fleet, every node of the live) learns of it. */
  async produce(kind: types.MediaKind, rtpParameters: types.RtpParameters): Promise<types.Producer> {
    const source = kind === 'audio' ? 'mic' : 'camera';
    const producer = await this.transport.produce({ kind, rtpParameters, appData: { peerId: this.peer.id, userId: this.peer.claims.sub, source } });
    this.producers.push(producer);
    this.peer.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.peer.producers.delete(producer.id));
    this.room.addProducer({ producer, peerId: this.peer.id, userId: this.peer.claims.sub, source }, this.peer);
    return producer;
  }

  /** Sends one RTP or RTCP packet (its parts are sent as one datagram). */
  send(packet: Buffer | Buffer[]): void {
    if (!this.#closed) this.socket.send(packet);
  }

  /** RTCP from the node (everything it sends on the muxed port is RTCP). */
  onRtcp(listener: (packet: Buffer) => void): void {
    this.socket.on('message', listener);
  }

  /** Closes the socket, the transport (and so the producers) and the signalling. Twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.close();
    this.transport.close();
    this.signalling.close();
  }
}
