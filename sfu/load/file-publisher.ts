import type { types } from 'mediasoup';
import { HostPeer, type HostLink, type HostPeerOptions } from './host-peer';
import { prepareHostMedia, type HostMedia } from './host-media';
import { packetizeH264, RtpSender, withParameterSets } from './rtp-packetizer';

/** What a FilePublisher sends, whichever way it reaches the node. */
export interface FileMediaOptions {
  /** 3: one video producer with 180p/360p/720p simulcast (default); 1: 720p only. */
  layers?: 1 | 3;
  /** Publish Opus too (default true). */
  audio?: boolean;
  /** Frequency of its audio tone (default 440 Hz). */
  toneHz?: number;
}

/** A FilePublisher on an in-process node, joined as a HostPeer (node, session, key, userId). */
export interface FilePublisherOptions extends HostPeerOptions, FileMediaOptions {}

const AUDIO_PT = 100;
const VIDEO_PT = 102;
const AUDIO_SSRC = 0x3333_0001;
/** One SSRC per layer, lowest first. */
const VIDEO_SSRCS = [0x4444_0001, 0x4444_0002, 0x4444_0003];
const OPUS_TICKS = 960; // 20 ms at 48 kHz
const TICK_MS = 10;
const REPORT_MS = 1000;

const packetized = new WeakMap<HostMedia['layers'][number], Buffer[][]>();

/** RTP payloads of each frame of a layer, made once per process and shared by its publishers. */
function payloadsOf(layer: HostMedia['layers'][number]): Buffer[][] {
  let frames = packetized.get(layer);
  if (!frames) {
    frames = withParameterSets(layer.frames).map((frame) => packetizeH264(frame));
    packetized.set(layer, frames);
  }
  return frames;
}

/**
 * A host without a browser publishing real media: the clip of host-media (H.264 in three layers
 * and Opus, encoded once by FFmpeg) played in real time and looped, over a HostLink: a HostPeer's
 * PlainTransport on an in-process node, or a RemoteHost's WebRTC transport on any node. With 3
 * layers the video producer is simulcast by SSRC (`encodings` lowest first) and the layers are
 * sent in lockstep, frame by frame. Timestamps and sequence numbers
 * keep increasing across loops; sender reports go out every second for each SSRC (mediasoup
 * needs them to switch a consumer between layers).
 *
 * Key frames: the files are pre-encoded, so a PLI or FIR from the node cannot be answered; every
 * layer has an IDR every 2 s (the GOP), which bounds how long a new viewer or a layer switch waits.
 * Pacing: a 10 ms timer sends whatever is due by the clock; after a stalled event loop the missed
 * frames go out at once (a burst) rather than being skipped, which would break decoding until the next IDR.
 */
export class FilePublisher<P = types.Producer> {
  readonly #video: { sender: RtpSender; frames: Buffer[][] }[];
  readonly #audio: RtpSender | undefined;
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #nextFrame = 0;
  #nextOpus = 0;
  #nextReportMs = 0;
  packetsSent = 0;

  private constructor(
    private readonly host: HostLink<P>,
    private readonly media: HostMedia,
    layers: HostMedia['layers'],
    audio: boolean,
  ) {
    this.#video = layers.map((layer, i) => ({
      sender: new RtpSender(VIDEO_SSRCS[i] ?? 0, VIDEO_PT, 90000),
      frames: payloadsOf(layer),
    }));
    this.#audio = audio ? new RtpSender(AUDIO_SSRC, AUDIO_PT, 48000) : undefined;
  }

  get producers(): P[] {
    return this.host.producers;
  }

  /** On an in-process node: joins as a HostPeer and sends plain RTP to its PlainTransport. */
  static async start(o: FilePublisherOptions): Promise<FilePublisher> {
    if (!o.node) throw new TypeError('node is required (a started MediaNode)');
    if (typeof o.session !== 'string' || !o.session) throw new TypeError('session must be a non-empty string');
    if (o.key?.type !== 'private') throw new TypeError('key must be a private key (the control plane’s)');
    return await FilePublisher.over(() => HostPeer.join(o), o);
  }

  /**
   * Over any HostLink (a RemoteHost: any node, over WebRTC). `connect` is called once the options
   * are checked and the clip is ready; the link is closed if producing fails.
   */
  static async over<L>(connect: () => Promise<HostLink<L>>, o: FileMediaOptions = {}): Promise<FilePublisher<L>> {
    const layers = o.layers ?? 3;
    const audio = o.audio ?? true;
    if (layers !== 1 && layers !== 3) throw new TypeError(`layers must be 1 or 3, got ${String(layers)}`);
    if (typeof audio !== 'boolean') throw new TypeError(`audio must be a boolean, got ${typeof audio}`);
    const media = await prepareHostMedia(o.toneHz === undefined ? {} : { toneHz: o.toneHz });
    const host = await connect();
    try {
      const chosen = layers === 3 ? media.layers : media.layers.slice(-1);
      const pub = new FilePublisher(host, media, chosen, audio);
      await pub.#produce();
      pub.#run();
      return pub;
    } catch (err) {
      host.close();
      throw err;
    }
  }

  async #produce(): Promise<void> {
    if (this.#audio) {
      await this.host.produce('audio', {
        codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
        encodings: [{ ssrc: AUDIO_SSRC }],
        rtcp: { cname: 'podlive-file-host' },
      });
    }
    await this.host.produce('video', {
      codecs: [{
        mimeType: 'video/H264', payloadType: VIDEO_PT, clockRate: 90000,
        parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
      }],
      encodings: this.#video.map(({ sender }) => ({ ssrc: sender.ssrc })),
      rtcp: { cname: 'podlive-file-host' },
    });
  }

  #run(): void {
    this.#t0 = performance.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#tick();
  }

  /** Sends every frame and Opus packet that is due by now, then the sender reports when due. */
  #tick(): void {
    const elapsed = performance.now() - this.#t0;
    const frameMs = 1000 / this.media.fps;
    for (; this.#nextFrame * frameMs <= elapsed; this.#nextFrame++) {
      const ticks = Math.round((this.#nextFrame * 90000) / this.media.fps);
      for (const { sender, frames } of this.#video) {
        const payloads = frames[this.#nextFrame % frames.length] ?? [];
        payloads.forEach((payload, i) => this.#send(sender.packet(payload, ticks, i === payloads.length - 1)));
      }
    }
    if (this.#audio) {
      const opus = this.media.opus;
      for (; this.#nextOpus * 20 <= elapsed; this.#nextOpus++) {
        const packet = opus[this.#nextOpus % opus.length];
        if (packet) this.#send(this.#audio.packet(packet, this.#nextOpus * OPUS_TICKS, false));
      }
    }
    if (elapsed >= this.#nextReportMs) {
      this.#nextReportMs += REPORT_MS;
      const wallMs = performance.timeOrigin + this.#t0 + elapsed;
      for (const { sender } of this.#video) this.host.send(sender.senderReport(wallMs, (elapsed * 90000) / 1000));
      if (this.#audio) this.host.send(this.#audio.senderReport(wallMs, (elapsed * 48000) / 1000));
    }
  }

  #send(packet: Buffer[]): void {
    this.packetsSent++;
    this.host.send(packet);
  }

  /** Stops sending; the producers stay until close() (counts settle before anyone reads them). */
  stopSending(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.stopSending();
    this.host.close();
  }
}
