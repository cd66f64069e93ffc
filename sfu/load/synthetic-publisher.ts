import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import type { TokenSigningKey } from '@podlive/shared/tokens';
import type { MediaNode } from '../src/MediaNode';
import { HostPeer } from './host-peer';

/**
 * A host without a browser, for tests and benches on an in-process node (joined as a HostPeer):
 * it produces Opus and H.264 through a PlainTransport fed by synthetic RTP: 50 Opus packets/s,
 * and 25 H.264 frames/s of `videoKbps` with a key frame (SPS, PPS, IDR) every 2 s and on PLI/FIR.
 * The payloads are random bytes behind valid NAL/TOC headers: enough for mediasoup to route.
 */
export interface SyntheticPublisherOptions {
  node: MediaNode;
  session: string;
  /** The control plane's private key: the host's media token is minted with it. */
  key: TokenSigningKey;
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
  #timestamp = { audio: 0, video: 0 };
  #frames = 0;
  packetsSent = 0;

  private constructor(private readonly host: HostPeer) {}

  get producers(): types.Producer[] {
    return this.host.producers;
  }

  static async start(o: SyntheticPublisherOptions): Promise<SyntheticPublisher> {
    const host = await HostPeer.join(o);
    const videoKbps = o.videoKbps ?? 500;
    try {
      await host.produce('audio', {
        codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO.pt, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: AUDIO.ssrc }],
      });
      if (videoKbps > 0) {
        await host.produce('video', {
          codecs: [{
            mimeType: 'video/H264', payloadType: VIDEO.pt, clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          }],
          encodings: [{ ssrc: VIDEO.ssrc }],
        });
      }
    } catch (err) {
      host.close();
      throw err;
    }
    const pub = new SyntheticPublisher(host);
    pub.#run(videoKbps);
    return pub;
  }

  #run(videoKbps: number): void {
    // RTCP from the node: a PSFB (206) PLI/FIR asks for a key frame.
    this.host.onRtcp((msg) => {
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
    this.host.send([header, payload]);
  }

  /** Stops sending; the producers stay until close() (counts settle before anyone reads them). */
  stopSending(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers.length = 0;
  }

  close(): void {
    this.stopSending();
    this.host.close();
  }
}
