import type protooClient from 'protoo-client';
import { MediaClient, type MediaRequestArgs } from '@podlive/shared/media-client';
import type { MediaRequestMethod, MediaResponses } from '@podlive/shared/protocol';
import { GenericNack, PictureLossIndication, RtpPacket, RtcpPayloadSpecificFeedback, RtcpTransportLayerFeedback } from 'werift';
import type { TokenSource } from './options';
import { JoinError, mediaJoin, openSignalling } from './join-source';
import { openRecvTransport, type RecvTransport } from './recv-transport';
import { RtpCounter, type StreamCounts, type StreamRole } from './rtp-counter';
import { receiveCapabilities, type ProducerInfo } from './wire';
import type { NodeWire } from '../src/node-wire';

export interface ViewerOptions {
  source: TokenSource;
  index: number;
  listen: boolean;
  sampleEvery: number;
}

export interface ViewerResult {
  index: number;
  /** Join start → every consumer resumed (ms). */
  joinMs?: number;
  /** Join start → first RTP packet (ms). */
  firstPacketMs?: number;
  failure?: { stage: string; reason: string };
  /** Milliseconds each step of the join took (token, signalling, join, transport, ice, dtls, consume). */
  stages: Record<string, number>;
  counts: Record<StreamRole, StreamCounts>;
  /** Sampled packets decrypted (auth tag checked) and recognised as the codec's payload; and those that weren't. */
  verified: number;
  verifyFailed: number;
  nacksSent: number;
  plisSent: number;
  rtcpReceived: number;
  /** mediasoup consumer id → SSRC we receive it on (to compare with the node's stats), and its type (simple, simulcast). */
  consumers: Record<string, { ssrc: number; kind: 'audio' | 'video'; type: string }>;
}

/** One request of the join, failing as a JoinError of `stage`. */
type Step = <M extends MediaRequestMethod>(stage: string, method: M, ...args: MediaRequestArgs<M>) => Promise<MediaResponses<NodeWire>[M]>;

const SENDER_SSRC = 0x10ad;
const MAX_NACK = 16;

/** One headless viewer: a protoo connection and one receive transport over werift's ICE and DTLS. */
export class Viewer {
  readonly counter: RtpCounter;
  #client?: MediaClient<NodeWire, protooClient.Peer>;
  #transport?: RecvTransport;
  #start = 0;
  #joinMs: number | undefined;
  #failure: ViewerResult['failure'];
  #verified = 0;
  #verifyFailed = 0;
  #nacks = 0;
  #plis = 0;
  #h264 = false;
  #closed = false;
  readonly #consumers: ViewerResult['consumers'] = {};
  readonly #stages: Record<string, number> = {};
  #mark = 0;

  constructor(private readonly options: ViewerOptions) {
    this.counter = new RtpCounter(
      { gap: (ssrc, first, count) => this.#onGap(ssrc, first, count), verify: (buf, role) => this.#verify(buf, role) },
      options.sampleEvery,
    );
  }

  get joined(): boolean {
    return this.#joinMs !== undefined;
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }

  get verified(): number {
    return this.#verified;
  }

  /** Joins; never throws: a failure is recorded with its stage and reason. */
  async join(timeoutMs: number): Promise<void> {
    this.#start = this.#mark = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new JoinError('timeout', `not joined after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.#join(), timeout]);
      this.#joinMs = performance.now() - this.#start;
    } catch (err) {
      this.#failure = err instanceof JoinError ? { stage: err.stage, reason: err.message } : { stage: 'join', reason: (err as Error).message };
      await this.close();
    } finally {
      clearTimeout(timer);
    }
  }

  async #join(): Promise<void> {
    const join = await mediaJoin(this.options.source, this.options.index);
    this.#lap('token');
    const client = (this.#client = new MediaClient<NodeWire, protooClient.Peer>(await openSignalling(join)));
    this.#lap('signalling');
    client.peer.on('close', () => {
      if (!this.#closed && !this.#failure) this.#failure = { stage: 'signalling', reason: 'closed by the node' };
    });
    const step: Step = async (stage, method, ...args) => {
      try {
        return await client.request(method, ...args);
      } catch (err) {
        throw new JoinError(stage, `${method}: ${(err as Error).message}`);
      }
    };
    // Producers announced while we are still joining (an edge being fed as we arrive) are kept
    // and consumed once the transport exists.
    const announced: ProducerInfo[] = [];
    let onAnnounced = (info: ProducerInfo) => void announced.push(info);
    client.onNotification((n) => {
      if (n.method === 'newProducer') onAnnounced(n.data);
    });
    const routerCaps = await step('join', 'getRouterRtpCapabilities');
    const { producers } = await step('join', 'join', { rtpCapabilities: receiveCapabilities(routerCaps) });
    const params = await step('transport', 'createWebRtcTransport', { direction: 'recv' });
    this.#lap('join');
    const transport = await openRecvTransport({
      params,
      signal: (dtlsParameters) => step('transport', 'connectWebRtcTransport', { transportId: params.id, dtlsParameters: { ...dtlsParameters } }),
      onDatagram: (buf) => this.counter.onDatagram(buf),
      lap: (stage) => this.#lap(stage),
    }, (t) => (this.#transport = t));
    this.counter.tagLength = transport.tagLength;
    onAnnounced = (info) => void this.#consume(step, params.id, info).catch(() => undefined);
    const seen = new Set<string>();
    for (const producer of [...producers, ...announced]) {
      if (seen.has(producer.producerId)) continue;
      seen.add(producer.producerId);
      await this.#consume(step, params.id, producer);
    }
    this.#lap('consume');
  }

  #lap(stage: string): void {
    const now = performance.now();
    this.#stages[stage] = now - this.#mark;
    this.#mark = now;
  }

  async #consume(step: Step, transportId: string, producer: ProducerInfo): Promise<void> {
    if (this.options.listen && producer.kind !== 'audio') return;
    const reply = await step('consume', 'consume', { producerId: producer.producerId, transportId });
    const encoding = reply.rtpParameters.encodings?.[0];
    if (!encoding?.ssrc) throw new JoinError('consume', 'consumer without an SSRC');
    this.counter.expect(encoding.ssrc, reply.kind);
    if (encoding.rtx?.ssrc) this.counter.expect(encoding.rtx.ssrc, 'rtx');
    if (reply.kind === 'video') this.#h264 = /h264/i.test(reply.rtpParameters.codecs[0]?.mimeType ?? '');
    this.#consumers[reply.id] = { ssrc: encoding.ssrc, kind: reply.kind, type: reply.type };
    await step('consume', 'resumeConsumer', { consumerId: reply.id });
  }

  #verify(buf: Buffer, role: StreamRole): void {
    const dtls = this.#transport?.dtls;
    if (!dtls?.srtp) return;
    try {
      const payload = RtpPacket.deSerialize(dtls.srtp.decrypt(buf)).payload;
      const nal = payload[0] ?? 0x80;
      const ok = role === 'video' && this.#h264 ? (nal & 0x80) === 0 && (nal & 0x1f) >= 1 && (nal & 0x1f) <= 28 : payload.length > 0;
      if (ok) this.#verified++;
      else this.#verifyFailed++;
    } catch {
      this.#verifyFailed++;
    }
  }

  #onGap(ssrc: number, firstLost: number, count: number): void {
    const dtls = this.#transport?.dtls;
    if (!dtls || dtls.state !== 'connected') return;
    if (count > MAX_NACK) {
      this.#plis++;
      void dtls.sendRtcp([new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: SENDER_SSRC, mediaSsrc: ssrc }) })]).catch(() => undefined);
      return;
    }
    this.#nacks++;
    const lost = Array.from({ length: count }, (_, i) => (firstLost + i) & 0xffff);
    void dtls.sendRtcp([new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: SENDER_SSRC, mediaSourceSsrc: ssrc, lost }) })]).catch(() => undefined);
  }

  result(): ViewerResult {
    const { firstPacketAt } = this.counter;
    return {
      index: this.options.index,
      ...(this.#joinMs === undefined ? {} : { joinMs: this.#joinMs }),
      ...(firstPacketAt ? { firstPacketMs: firstPacketAt - this.#start } : {}),
      ...(this.#failure ? { failure: this.#failure } : {}),
      stages: this.#stages,
      counts: this.counter.totals(),
      verified: this.#verified,
      verifyFailed: this.#verifyFailed,
      nacksSent: this.#nacks,
      plisSent: this.#plis,
      rtcpReceived: this.counter.rtcpPackets,
      consumers: this.#consumers,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.peer.close();
    await this.#transport?.dtls.stop().catch(() => undefined);
    await this.#transport?.ice.stop().catch(() => undefined);
  }
}
