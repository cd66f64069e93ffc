import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';
import type { MediaNode } from '@podlive/sfu';
import { packetize, TinyH264Encoder } from './h264';

export interface TestPublisherOptions {
  node: MediaNode;
  session: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Video bitrate reached with filler data (default 0: only the frames themselves, a few kbit/s). */
  videoKbps?: number;
  /** Publish Opus from FFmpeg (a 440 Hz tone through libopus) too (default true). */
  audio?: boolean;
  /** The host's user id, as the producers are registered with the room (default `test-host`). */
  userId?: string;
}

const VIDEO = { pt: 102, ssrc: 0x5151_0001 };
const AUDIO = { pt: 100, ssrc: 0x5151_0002 };

/**
 * A host for recorder tests, on an in-process node: H.264 from TinyH264Encoder sent as RTP in
 * real time through a PlainTransport (comedia, RTCP muxed), answering the node's PLI/FIR with a
 * key frame like a browser does (and sending none otherwise, after the first); Opus from an
 * FFmpeg process (`-re`, libopus) through a second PlainTransport. Both producers are registered
 * with the session's room, where the recorder consumes them like any producer.
 */
export class TestPublisher {
  readonly producers: types.Producer[] = [];
  /** Wall-clock time (ms) each key frame was sent, by frame number. */
  readonly keyFrames = new Map<number, number>();
  /** PLI/FIR packets received from the node. */
  keyFrameRequests = 0;
  #t0 = 0;
  #next = 0;
  #keyWanted = true;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #ffmpeg: ChildProcess | undefined;
  #closed = false;
  readonly #transports: types.PlainTransport[] = [];
  readonly #encoder: TinyH264Encoder;

  private constructor(
    readonly fps: number,
    readonly width: number,
    readonly height: number,
    private readonly fillerBytes: number,
    private readonly socket: Socket,
  ) {
    this.#encoder = new TinyH264Encoder({ width, height });
  }

  static async start(o: TestPublisherOptions): Promise<TestPublisher> {
    const fps = o.fps ?? 30;
    const room = await o.node.room(o.session);
    const socket = createSocket('udp4');
    socket.on('error', () => undefined);
    const pub = new TestPublisher(fps, o.width ?? 1280, o.height ?? 720, Math.round(((o.videoKbps ?? 0) * 1000) / 8 / fps), socket);
    try {
      const video = await room.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
      pub.#transports.push(video);
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      socket.connect(video.tuple.localPort, '127.0.0.1');
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.on('message', (msg) => pub.#rtcp(msg));
      const producer = await video.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [{
            mimeType: 'video/H264', payloadType: VIDEO.pt, clockRate: 90000,
            parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          }],
          encodings: [{ ssrc: VIDEO.ssrc }],
        },
      });
      pub.#register(room, producer, 'camera', o.userId);
      if (o.audio ?? true) {
        const audio = await room.router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: false, comedia: true });
        pub.#transports.push(audio);
        const producer = await audio.produce({
          kind: 'audio',
          rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO.pt, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: AUDIO.ssrc }] },
        });
        pub.#register(room, producer, 'mic', o.userId);
        const target = `rtp://127.0.0.1:${audio.tuple.localPort}?rtcpport=${audio.rtcpTuple?.localPort ?? audio.tuple.localPort}&pkt_size=1200`;
        pub.#ffmpeg = spawn('ffmpeg', [
          '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
          '-c:a', 'libopus', '-b:a', '48k', '-payload_type', String(AUDIO.pt), '-ssrc', String(AUDIO.ssrc), '-f', 'rtp', target,
        ], { stdio: ['ignore', 'ignore', 'inherit'] });
      }
    } catch (err) {
      pub.close();
      throw err;
    }
    pub.#t0 = performance.now();
    pub.#timer = setInterval(() => pub.#tick(), 5);
    return pub;
  }

  get videoProducer(): types.Producer {
    return this.producers.find((p) => p.kind === 'video')!;
  }

  get audioProducer(): types.Producer | undefined {
    return this.producers.find((p) => p.kind === 'audio');
  }

  /** The number of the next frame to be sent: frames sent so far. */
  get framesSent(): number {
    return this.#next;
  }

  /** Stops the media; the producers stay until close(). */
  stopSending(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#ffmpeg?.kill('SIGKILL');
    this.#ffmpeg = undefined;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopSending();
    this.socket.close();
    for (const t of this.#transports) t.close();
  }

  #register(room: Awaited<ReturnType<MediaNode['room']>>, producer: types.Producer, source: string, userId = 'test-host'): void {
    this.producers.push(producer);
    room.addProducer({ producer, peerId: userId, userId, source });
  }

  /** RTCP from the node, possibly compound: any payload-specific feedback (PLI, FIR) asks for a key frame. */
  #rtcp(msg: Buffer): void {
    for (let offset = 0; offset + 4 <= msg.length; offset += (msg.readUInt16BE(offset + 2) + 1) * 4) {
      if (msg[offset + 1] === 206) {
        this.keyFrameRequests++;
        this.#keyWanted = true;
      }
    }
  }

  /** Sends every frame due by the clock (a stalled event loop yields a burst, never a skipped frame). */
  #tick(): void {
    const due = Math.floor(((performance.now() - this.#t0) * this.fps) / 1000);
    for (; this.#next <= due; this.#next++) {
      const key = this.#keyWanted;
      this.#keyWanted = false;
      if (key) this.keyFrames.set(this.#next, Date.now());
      const payloads = packetize(this.#encoder.frame(this.#next, key, this.fillerBytes));
      const timestamp = Math.round((this.#next * 90000) / this.fps) >>> 0;
      payloads.forEach((payload, i) => {
        const header = Buffer.alloc(12);
        header[0] = 0x80;
        header[1] = (i === payloads.length - 1 ? 0x80 : 0) | VIDEO.pt;
        header.writeUInt16BE((this.#seq = (this.#seq + 1) & 0xffff), 2);
        header.writeUInt32BE(timestamp, 4);
        header.writeUInt32BE(VIDEO.ssrc, 8);
        this.socket.send([header, payload]);
      });
    }
  }
}
