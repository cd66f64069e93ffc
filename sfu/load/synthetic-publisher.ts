import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import type protooClient from 'protoo-client';
import { signMediaToken } from '@podlive/shared/tokens';
import type { MediaNode } from '../src/MediaNode';
import { openSignalling } from './join-source';

/**
 * A host without a browser, for tests and benches on an in-process node: it joins the session
 * as the host over protoo (so the room exists and viewers see it), then produces Opus and H.264
 * through a PlainTransport fed by synthetic RTP from a UDP socket: 50 Opus packets/s, and 25
 * H.264 frames/s of `videoKbps` with a key frame (SPS, PPS, IDR) every 2 s and on PLI/FIR.
 * The payloads are random bytes behind valid NAL/TOC headers: enough for mediasoup to route.
 */
export interface SyntheticPublisherOptions {
  node: MediaNode;
  session: string;
  secret: string;
  /** Video bitrate (default 500 kbit/s); 0 publishes audio only. */
  videoKbps?: number;
}

const AUDIO = { pt: 100, ssrc: 0x1111_0001 };
const VIDEO = { pt: 102, ssrc: 0x2222_0002 };
const MTU_PAYLOAD = 1100;

export class SyntheticPublisher {
  readonly #timers: NodeJS.Timeout[] = [];
  #keyFrameWanted = true;
  #seq = { audio: 0, video: 0 };
  #frames = 0;
  #closed = false;
  packetsSent = 0;

  private constructor(
    readonly producers: types.Producer[],
    private readonly transport: types.PlainTransport,
    private readonly socket: Socket,
    private readonly host: protooClient.Peer,
  ) {}

  static async start(o: SyntheticPublisherOptions): Promise<SyntheticPublisher> {
    const token = await signMediaToken(o.secret, { sid: o.session, sub: 'load-publisher', role: 'host', node: o.node.config.SFU_NODE_ID });
    const host = await openSignalling({ url: o.node.url, token });
    const room = o.node.rooms.get(o.session);
    const peer = room && [...room.peers.values()].find((p) => p.claims.sub === 'load-publisher');
    if (!room || !peer) throw new Error('publisher peer not found in the room');
    const transport = await room.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const videoKbps = o.videoKbps ?? 500;
    const producers = [
      await transport.produce({
        kind: 'audio',
        rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO.pt, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: AUDIO.ssrc }] },
      }),
      ...(videoKbps > 0
        ? [await transport.produce({
            kind: 'video',
            rtpParameters: {
              codecs: [{
                mimeType: 'video/H264', payloadType: VIDEO.pt, clockRate: 90000,
                parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
                rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
              }],
              encodings: [{ ssrc: VIDEO.ssrc }],
            },
          })]
        : []),
    ];
    for (const producer of producers) {
      peer.producers.set(producer.id, producer);
      producer.observer.once('close', () => peer.producers.delete(producer.id));
      // As the produce handler does: the room (and, in a fleet, every node of the live) learns of it.
      room.addProducer({ producer, peerId: peer.id, userId: peer.claims.sub, source: producer.kind === 'audio' ? 'mic' : 'camera' }, peer);
    }
    const socket = createSocket('udp4');
    // ICMP "port unreachable" once the node is gone surfaces here: the publisher just stops mattering.
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.connect(transport.tuple.localPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const pub = new SyntheticPublisher(producers, transport, socket, host);
    pub.#run(videoKbps);
    return pub;
  }

  #run(videoKbps: number): void {
    // RTCP from the node: a PSFB (206) PLI/FIR asks for a key frame.
    this.socket.on('message', (msg) => {
      if (msg[1] === 206) this.#keyFrameWanted = true;
    });
    this.#timers.push(setInterval(() => this.#send('audio', AUDIO, Buffer.concat([Buffer.from([0x78]), randomBytes(80)]), 960, true), 20));
    if (videoKbps <= 0) return;
    const frameBytes = Math.round((videoKbps * 1000) / 8 / 25);
    this.#timers.push(setInterval(() => this.#videoFrame(frameBytes), 40));
  }

  #videoFrame(frameBytes: number): void {
    const key = this.#keyFrameWanted || this.#frames % 50 === 0;
    this.#keyFrameWanted = false;
    this.#frames++;
    const nals: Buffer[] = key ? [Buffer.from([0x67, 0x42, 0xe0, 0x1f, 0xda, 0x02, 0x80]), Buffer.from([0x68, 0xce, 0x3c, 0x80])] : [];
    for (let left = key ? frameBytes * 3 : frameBytes; left > 0; left -= MTU_PAYLOAD) {
      nals.push(Buffer.concat([Buffer.from([key ? 0x65 : 0x41]), randomBytes(Math.min(left, MTU_PAYLOAD))]));
    }
    nals.forEach((nal, i) => this.#send('video', VIDEO, nal, i === nals.length - 1 ? 3600 : 0, i === nals.length - 1));
  }

  #send(kind: 'audio' | 'video', stream: { pt: number; ssrc: number }, payload: Buffer, tsStep: number, marker: boolean): void {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = (marker && kind === 'video' ? 0x80 : 0) | stream.pt;
    const seq = (this.#seq[kind] = (this.#seq[kind] + 1) & 0xffff);
    header.writeUInt16BE(seq, 2);
    header.writeUInt32BE(this.#timestamp[kind] >>> 0, 4);
    header.writeUInt32BE(stream.ssrc, 8);
    if (tsStep) this.#timestamp[kind] = (this.#timestamp[kind] + tsStep) >>> 0;
    this.packetsSent++;
    this.socket.send(Buffer.concat([header, payload]));
  }

  #timestamp = { audio: 0, video: 0 };

  /** Stops sending; the producers stay until close() (counts settle before anyone reads them). */
  stopSending(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopSending();
    this.socket.close();
    this.transport.close();
    this.host.close();
  }
}
