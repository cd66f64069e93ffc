import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { ProducerInfo } from '@podlive/shared/protocol';
import { Signalling } from './signalling';

interface TransportInfo {
  id: string;
  iceParameters: types.IceParameters;
  iceCandidates: types.IceCandidate[];
  dtlsParameters: types.DtlsParameters;
}

interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: types.MediaKind;
  rtpParameters: types.RtpParameters;
}

/** Three simulcast layers for a 16:9 camera: quarter, half and full resolution. */
const SIMULCAST: types.RtpEncodingParameters[] = [
  { rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export interface InboundStats {
  video: { framesDecoded: number; packetsReceived: number; frameWidth: number };
  audio: { packetsReceived: number };
}

/**
 * A browser's media in one live on one SFU node: publish (host, guest) and consume (everyone).
 * Consumers are created paused on the node and resumed once attached here.
 */
export class MediaSession {
  readonly device = new Device();
  readonly consumers = new Map<string, types.Consumer>();
  readonly producers = new Map<string, types.Producer>();
  readonly #transports = new Map<'send' | 'recv', Promise<types.Transport>>();
  #onTrack: ((track: MediaStreamTrack, consumer: types.Consumer) => void) | undefined;

  private constructor(readonly signalling: Signalling) {}

  static async connect(url: string): Promise<{ session: MediaSession; producers: ProducerInfo[] }> {
    const signalling = await Signalling.open(url);
    const session = new MediaSession(signalling);
    const routerRtpCapabilities = await signalling.request<types.RtpCapabilities>('getRouterRtpCapabilities');
    await session.device.load({ routerRtpCapabilities });
    const { producers } = await signalling.request<{ producers: ProducerInfo[] }>('join', { rtpCapabilities: session.device.rtpCapabilities });
    signalling.onNotification((method, data) => {
      if (method === 'newProducer') void session.consume(data as ProducerInfo);
      if (method === 'consumerClosed') session.consumers.get((data as { consumerId: string }).consumerId)?.close();
    });
    return { session, producers };
  }

  /** Publishes a microphone track (Opus) and a camera track (H.264, three simulcast layers). */
  async publish(stream: MediaStream): Promise<void> {
    const transport = await this.#transport('send');
    const h264 = this.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/h264');
    for (const track of stream.getTracks()) {
      const producer =
        track.kind === 'audio'
          ? await transport.produce({ track, appData: { source: 'mic' } })
          : await transport.produce({ track, encodings: SIMULCAST, codec: h264, appData: { source: 'camera' } });
      this.producers.set(producer.id, producer);
    }
  }

  /** Calls `onTrack` for each remote track, including producers that appear later. */
  async watch(producers: ProducerInfo[], onTrack: (track: MediaStreamTrack, consumer: types.Consumer) => void): Promise<void> {
    this.#onTrack = onTrack;
    await this.#transport('recv');
    await Promise.all(producers.map((p) => this.consume(p)));
  }

  async consume(producer: ProducerInfo): Promise<void> {
    if (!this.#onTrack) return;
    const transport = await this.#transport('recv');
    const info = await this.signalling.request<ConsumerInfo>('consume', { producerId: producer.producerId, transportId: transport.id });
    const consumer = await transport.consume(info);
    this.consumers.set(consumer.id, consumer);
    consumer.observer.on('close', () => this.consumers.delete(consumer.id));
    this.#onTrack(consumer.track, consumer);
    await this.signalling.request('resumeConsumer', { consumerId: consumer.id });
  }

  async inboundStats(): Promise<InboundStats> {
    const out: InboundStats = { video: { framesDecoded: 0, packetsReceived: 0, frameWidth: 0 }, audio: { packetsReceived: 0 } };
    for (const consumer of this.consumers.values()) {
      const report = await consumer.getStats();
      report.forEach((s: { type: string; kind?: string; framesDecoded?: number; packetsReceived?: number; frameWidth?: number }) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          out.video.framesDecoded += s.framesDecoded ?? 0;
          out.video.packetsReceived += s.packetsReceived ?? 0;
          out.video.frameWidth = Math.max(out.video.frameWidth, s.frameWidth ?? 0);
        } else if (s.kind === 'audio') {
          out.audio.packetsReceived += s.packetsReceived ?? 0;
        }
      });
    }
    return out;
  }

  close(): void {
    for (const transport of this.#transports.values()) void transport.then((t) => t.close(), () => undefined);
    this.signalling.close();
  }

  /** One transport per direction, created on first use (concurrent callers share it). */
  #transport(direction: 'send' | 'recv'): Promise<types.Transport> {
    let transport = this.#transports.get(direction);
    if (!transport) {
      transport = this.#createTransport(direction);
      this.#transports.set(direction, transport);
    }
    return transport;
  }

  async #createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    const info = await this.signalling.request<TransportInfo>('createWebRtcTransport', { direction });
    const transport = direction === 'send' ? this.device.createSendTransport(info) : this.device.createRecvTransport(info);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signalling.request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.signalling
          .request<{ id: string }>('produce', { transportId: transport.id, kind, rtpParameters, appData })
          .then(callback, errback);
      });
    }
    return transport;
  }
}
