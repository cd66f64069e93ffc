import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Storage } from '@podlive/storage';
import type { MediaResponses, ProducerInfo } from '@podlive/shared/protocol';
import { createLogger } from '@podlive/shared/logger';
import { LIVE_HLS_SEGMENT_SECONDS, LIVE_HLS_WINDOW, type RecorderStartBody, type RecordingManifest, type RenditionId } from '@podlive/shared/recording';
import { Rendition, type RenditionOptions } from '../capture/Rendition';
import { freeUdpPortPairs } from '../capture/ports';
import { buildSdp, sameRtpInput, type RouterCodec } from '../capture/sdp';
import type { CaptureMetrics } from '../metrics';
import { ManifestStore } from './manifest';
import { RecordingUploads } from './uploads';
import { LiveHls } from './live-hls';
import { armRenditions, MAX_LAYERS, sameRouterCodecs, type ArmedRendition } from './armed';
import { joinAsRecorder, type RecorderClient, type RecorderWire } from './signalling';

const logger = createLogger('recorder').child({ module: 'LiveRecording' });

export interface LiveRecordingOptions {
  start: RecorderStartBody;
  storage: Storage;
  workDir: string;
  segmentSeconds: number;
  ffmpegPath: string;
  /** What was already captured of this live (a restarted recorder continues it). */
  manifest?: RecordingManifest;
  /**
   * The codecs the origin's router is expected to offer (another router's, as every router of a
   * fleet is made alike): the renditions are armed with them at once, before the join, and again
   * on the router's own codecs if these turn out different.
   */
  routerCodecs?: readonly RouterCodec[];
  /** Told the codecs of each router joined. */
  onRouterCodecs?: (codecs: RouterCodec[]) => void;
  /** Told of FFmpeg's restarts, the files it writes and their uploads. */
  metrics: CaptureMetrics;
}

type PlainConsumer = MediaResponses<RecorderWire>['createPlainConsumer'];

interface Capture {
  rendition: Rendition;
  consumers: string[];
}

/**
 * The recording of one live while it runs: joined to the origin as the `recorder` role, one
 * Rendition (FFmpeg) per simulcast layer of the host's camera, each fed the host's layer, the
 * host's mic and every guest's mic (mixed) over PlainTransports. Every chunk is uploaded (RecordingUploads) as soon
 * as FFmpeg closes it, then the rendition's live playlist, then the manifest. When what is
 * recorded changes (the host reconnects or moves to another origin, a guest starts or stops
 * speaking), the renditions restart on the new producers and number on: one discontinuity, about
 * half a second of media. Guests' video is not recorded (it would need a composited encode).
 */
export class LiveRecording {
  readonly sessionId: string;
  readonly #o: LiveRecordingOptions;
  readonly #manifest: ManifestStore;
  readonly #uploads: RecordingUploads;
  readonly #liveHls: LiveHls;
  readonly #producers = new Map<string, ProducerInfo>();
  #captures = new Map<RenditionId, Capture>();
  /** Every rendition started and not closed yet: armed, capturing or stopping. */
  readonly #open = new Set<Rendition>();
  /** Renditions started at join, before the host's camera (see armed.ts); taken by the first start. */
  #armed: Promise<ArmedRendition[]> | undefined;
  /** The router codecs #armed was started on. */
  #armedCodecs: readonly RouterCodec[] | undefined;
  #peer: RecorderClient | undefined;
  #node: RecorderStartBody['node'];
  /** Serialises (re)starts and the stop: one change of the renditions at a time. */
  #changing: Promise<void> = Promise.resolve();
  #stopped = false;

  private constructor(o: LiveRecordingOptions) {
    this.#o = o;
    this.sessionId = o.start.sessionId;
    this.#node = o.start.node;
    this.#manifest = new ManifestStore(o.storage, o.manifest ?? {
      sessionId: o.start.sessionId, hostId: o.start.hostId, startedAt: Date.now(), endedAt: null, renditions: {},
    });
    this.#uploads = new RecordingUploads({ storage: o.storage, manifest: this.#manifest, metrics: o.metrics, segmentSeconds: o.segmentSeconds, sessionId: this.sessionId });
    this.#liveHls = new LiveHls({ storage: o.storage, sessionId: this.sessionId });
  }

  /**
   * The recording of a live, not joined yet (join()): its renditions are armed at once when the
   * router's codecs are known (`routerCodecs`), so that FFmpeg listens by the time the host's
   * camera reaches the origin, however long the host takes to connect.
   */
  static create(o: LiveRecordingOptions): LiveRecording {
    const recording = new LiveRecording(o);
    if (o.routerCodecs) recording.#arm(o.routerCodecs);
    return recording;
  }

  /** Joins `node` (the live's origin; the start command's by default) and records once the host's camera is there. */
  join(node: RecorderStartBody['node'] = this.#node): Promise<void> {
    return this.#join(node);
  }

  get node(): RecorderStartBody['node'] {
    return this.#node;
  }

  get manifest(): RecordingManifest {
    return this.#manifest.current;
  }

  /** What runs for this live now: renditions capturing, the node's consumers feeding them, renditions open (armed ones too). */
  get running(): { renditions: number; consumers: number; open: number } {
    let consumers = 0;
    for (const capture of this.#captures.values()) consumers += capture.consumers.length;
    return { renditions: this.#captures.size, consumers, open: this.#open.size };
  }

  /** The live moved to another origin: record from there. */
  async moveTo(node: RecorderStartBody['node']): Promise<void> {
    if (node.id === this.#node.id && node.url === this.#node.url) return;
    this.#peer?.peer.close();
    this.#producers.clear();
    await this.#join(node);
  }

  /** The live ended: FFmpeg flushes the chunk in progress, everything is uploaded, the manifest closed. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#change(async () => {
      // Armed for a camera that never came: nothing to keep.
      await this.#discard(await this.#takeArmed());
      // Media must still flow while FFmpeg stops (see #stopCaptures): leave the node after.
      await this.#stopCaptures();
      this.#peer?.peer.close();
      await Promise.all([this.#uploads.end(), this.#liveHls.end()]);
      logger.info({ sessionId: this.sessionId }, 'recording stopped');
    });
  }

  /**
   * Kills FFmpeg without flushing (the recorder is going down; a restarted one resumes). Resolves
   * once every FFmpeg of this recording, armed ones included, has exited.
   */
  async abandon(): Promise<void> {
    this.#stopped = true;
    this.#peer?.peer.close();
    // A (re)start under way fails with the node gone, closing what it started.
    await this.#changing;
    const renditions = [...this.#captures.values()].map((c) => c.rendition);
    for (const rendition of renditions) rendition.close();
    await Promise.all([this.#takeArmed().then((armed) => this.#discard(armed)), ...renditions.map((r) => r.exited)]);
  }

  async #join(node: RecorderStartBody['node']): Promise<void> {
    if (this.#stopped) throw new Error('the recording has stopped');
    this.#node = node;
    const peer = await joinAsRecorder(node, this.sessionId);
    let producers: ProducerInfo[];
    try {
      this.#peer = peer;
      const caps = await peer.request('getRouterRtpCapabilities');
      const codecs = caps.codecs as unknown as RouterCodec[];
      this.#o.onRouterCodecs?.(codecs);
      // Armed already on the codecs this router has: kept.
      if (!this.#armedCodecs || !sameRouterCodecs(this.#armedCodecs, codecs)) this.#arm(codecs);
      ({ producers } = await peer.request('join', { rtpCapabilities: caps }));
    } catch (err) {
      peer.peer.close();
      throw err;
    }
    for (const p of producers) this.#producers.set(p.producerId, p);
    peer.onNotification((n) => {
      if (n.method === 'newProducer') {
        const info = n.data;
        this.#producers.set(info.producerId, info);
        if (this.#recorded(info)) this.#restart(info.userId === this.#o.start.hostId ? 'the host has a new producer' : 'a guest speaks');
      } else if (n.method === 'producerClosed') {
        const { producerId } = n.data;
        const info = this.#producers.get(producerId);
        this.#producers.delete(producerId);
        // A guest who left: the mix must not wait for their voice.
        if (info && info.userId !== this.#o.start.hostId && this.#recorded(info)) this.#restart('a guest left');
      }
    });
    peer.peer.on('close', () => {
      if (this.#peer === peer && !this.#stopped) logger.warn({ sessionId: this.sessionId, node: node.id }, 'lost the origin; waiting to be told where the live went');
    });
    this.#restart('joined the origin');
  }

  /** In the recording: the host's camera (one layer per rendition) and every voice on stage. */
  #recorded(info: ProducerInfo): boolean {
    return info.kind === 'audio' || info.userId === this.#o.start.hostId;
  }

  #change(step: () => Promise<void>): Promise<void> {
    this.#changing = this.#changing.then(step).catch((err: unknown) => {
      logger.error({ sessionId: this.sessionId, err: (err as Error).message }, 'recording change failed');
    });
    return this.#changing;
  }

  /**
   * (Re)starts every rendition on the host's current producers, numbering on. The first start
   * takes the renditions armed at join (their FFmpegs listening, or about to). Every layer the
   * camera may have is consumed at once, with the voices (how many layers it has comes back with
   * the consumers: those of layers it lacks are closed again), then each is fed.
   */
  #restart(why: string): void {
    void this.#change(async () => {
      if (this.#stopped) return;
      const producers = [...this.#producers.values()];
      const host = producers.filter((p) => p.userId === this.#o.start.hostId);
      const video = host.find((p) => p.kind === 'video');
      const audio = host.find((p) => p.kind === 'audio');
      if (!video || !audio) return; // recording begins once the host has camera and mic
      // The host's voice first, then the guests' (mixed into the programme audio).
      const voices = [audio, ...producers.filter((p) => p.kind === 'audio' && p.userId !== this.#o.start.hostId)];
      const armed = await this.#takeArmed();
      // Armed for the host's camera and mic alone, numbering from the manifest as it was at join.
      const usable = this.#captures.size === 0 && voices.length === 1 ? armed : [];
      void this.#discard(armed.filter((a) => !usable.includes(a)));
      await this.#stopCaptures();
      const startedAt = performance.now();
      logger.info({ sessionId: this.sessionId, why, armed: usable.length }, 'starting the renditions');
      const peer = this.#peer;
      if (!peer) return this.#discard(usable);
      const armedFor = (layer: number) => usable.find((a) => a.r === `r${layer}`);
      const made: PlainConsumer[] = [];
      const consume = (producer: ProducerInfo, layer: number | undefined, port: number | undefined) => this.#consume(peer, producer, layer, port).then((c) => {
        made.push(c);
        return c;
      });
      const tries = Array.from({ length: MAX_LAYERS }, (_, layer) => ({
        layer,
        video: consume(video, layer, armedFor(layer)?.streams[0].port),
        audios: voices.map((voice, i) => consume(voice, undefined, i === 0 ? armedFor(layer)?.streams[1].port : undefined)),
      }));
      const failed = (await Promise.allSettled(tries.flatMap((t) => [t.video, ...t.audios]))).find((x) => x.status === 'rejected');
      if (failed) {
        this.#closeConsumers(made.map((c) => c.id));
        await this.#discard(usable);
        throw failed.reason;
      }
      const layers = Math.min((await tries[0]!.video).spatialLayers, MAX_LAYERS);
      // Layers this camera does not have (not waited for: nothing else needs their ports).
      const extra = tries.slice(layers);
      this.#closeConsumers((await Promise.all(extra.flatMap((t) => [t.video, ...t.audios]))).map((c) => c.id));
      void this.#discard(extra.flatMap((t) => armedFor(t.layer) ?? []));
      const consumedMs = Math.round(performance.now() - startedAt);
      const started = await Promise.allSettled(tries.slice(0, layers).map(async (t) => {
        const r = `r${t.layer}` as RenditionId;
        return [r, await this.#capture(peer, r, await t.video, await Promise.all(t.audios), armedFor(t.layer))] as const;
      }));
      const captures = new Map(started.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : [])));
      const failedCapture = started.find((x) => x.status === 'rejected');
      if (failedCapture) {
        // Whatever started is dropped with the armed ones that did not (closing twice does nothing).
        for (const c of captures.values()) c.rendition.close();
        this.#closeConsumers(made.map((c) => c.id));
        await this.#discard(usable);
        throw failedCapture.reason;
      }
      this.#captures = captures;
      logger.info({ sessionId: this.sessionId, layers, consumedMs, fedMs: Math.round(performance.now() - startedAt) }, 'renditions fed');
    });
  }

  /** Closes consumers on the node (not waited for; one that is gone already is fine). */
  #closeConsumers(ids: readonly string[]): void {
    for (const consumerId of ids) void this.#peer?.request('closeConsumer', { consumerId }).catch(() => undefined);
  }

  /**
   * Starts FFmpeg for every layer the host's camera may have, on the router's codecs, before the
   * camera is there (see armed.ts). Only when nothing is being recorded: armed renditions number
   * on from the manifest as it is now.
   */
  #arm(codecs: readonly RouterCodec[]): void {
    if (this.#captures.size > 0 || this.#stopped) return;
    void this.#takeArmed().then((old) => this.#discard(old));
    const armedAt = performance.now();
    this.#armedCodecs = codecs;
    this.#armed = armRenditions(codecs, (armed) => {
      const options = this.#renditionOptions(armed.r, buildSdp(armed.streams), async () => {
        // Asked from FFmpeg's start until it writes: nothing to ask before the layer is fed (by this peer).
        if (armed.videoConsumerId !== undefined) await this.#peer?.request('requestKeyFrame', { consumerId: armed.videoConsumerId });
      });
      return Rendition.start(options).then((rendition) => this.#opened(rendition), async (err: unknown) => {
        await rm(options.workDir, { recursive: true, force: true });
        throw err;
      });
    });
    void this.#armed.then((armed) => Promise.allSettled(armed.map((a) => a.rendition))).then((renditions) => {
      const listening = renditions.filter((x) => x.status === 'fulfilled').length;
      logger.info({ sessionId: this.sessionId, listening, ms: Math.round(performance.now() - armedAt) }, 'renditions armed ahead of the camera');
    }, () => undefined);
  }

  /**
   * Armed renditions no capture takes: FFmpeg killed (it never had media: nothing to flush), its
   * work directory (the SDP) removed; resolves once their ports are free again.
   */
  async #discard(armed: readonly ArmedRendition[]): Promise<void> {
    await Promise.all(armed.map(async (a) => {
      const rendition = await a.rendition.catch(() => undefined);
      if (!rendition) return;
      rendition.close();
      await rendition.exited;
      await rm(rendition.workDir, { recursive: true, force: true });
    }));
  }

  /** The armed renditions (their FFmpegs listening or starting), now the caller's; none if none. */
  async #takeArmed(): Promise<ArmedRendition[]> {
    const armed = this.#armed;
    this.#armed = undefined;
    this.#armedCodecs = undefined;
    return (await armed?.catch((err: unknown) => {
      logger.warn({ sessionId: this.sessionId, err: (err as Error).message }, 'could not arm the renditions');
      return [];
    })) ?? [];
  }

  /** A paused plain consumer of `producer` (layer `spatialLayer`) sending to `port`, or to a free port pair. */
  async #consume(peer: RecorderClient, producer: ProducerInfo, spatialLayer?: number, port?: number): Promise<PlainConsumer & { port: number }> {
    const to = port ?? (await freeUdpPortPairs(1))[0];
    if (to === undefined) throw new Error('no free UDP port pair');
    const consumer = await peer.request('createPlainConsumer', {
      producerId: producer.producerId, ip: '127.0.0.1', port: to, rtcpPort: to + 1, ...(spatialLayer === undefined ? {} : { spatialLayer }),
    });
    return { ...consumer, port: to };
  }

  #renditionOptions(r: RenditionId, sdp: string, requestKeyFrame: () => Promise<void>): RenditionOptions {
    const last = this.#manifest.current.renditions[r]?.segments.at(-1);
    return {
      id: r, sdp, requestKeyFrame,
      workDir: join(this.#o.workDir, this.sessionId, r, String(Date.now())),
      segmentSeconds: this.#o.segmentSeconds,
      startIndex: last ? last.index + 1 : 0,
      firstRun: last ? last.run + 1 : 0,
      ffmpegPath: this.#o.ffmpegPath,
      // The lowest layer's FFmpeg also writes the audio alone (listen-only viewers on HLS).
      liveHls: { segmentSeconds: LIVE_HLS_SEGMENT_SECONDS, listSize: LIVE_HLS_WINDOW, audio: r === 'r0' },
    };
  }

  /**
   * One rendition fed `video` and `audios` (paused consumers): the armed one when its FFmpeg reads
   * those streams as they come (ports, codecs) and could start, else a new one on them. The
   * consumers are resumed once FFmpeg listens: the resume's key frame is the one it starts from.
   */
  async #capture(peer: RecorderClient, r: RenditionId, video: PlainConsumer & { port: number }, audios: (PlainConsumer & { port: number })[], armed?: ArmedRendition): Promise<Capture> {
    const streams = [
      { kind: 'video' as const, port: video.port, rtpParameters: video.rtpParameters },
      ...audios.map((audio) => ({ kind: 'audio' as const, port: audio.port, rtpParameters: audio.rtpParameters })),
    ];
    const requestKeyFrame = async () => {
      await peer.request('requestKeyFrame', { consumerId: video.id });
    };
    let rendition: Rendition | undefined;
    if (armed && sameRtpInput(armed.streams, streams)) {
      armed.videoConsumerId = video.id;
      // Its failure to start was logged (armed.ts): a new FFmpeg gets a second chance on its ports.
      rendition = await armed.rendition.catch(() => undefined);
    } else if (armed) {
      logger.warn({ sessionId: this.sessionId, rendition: r }, 'the camera’s codecs are not the router’s first: restarting the armed rendition');
      // Its FFmpeg holds the ports the consumers send to: gone before the new one binds them.
      await this.#discard([armed]);
    }
    rendition ??= this.#opened(await Rendition.start(this.#renditionOptions(r, buildSdp(streams), requestKeyFrame)));
    rendition.on('init', (init) => this.#uploads.init(r, init));
    rendition.on('segment', (segment) => this.#uploads.segment(r, segment));
    this.#liveHls.attach(rendition, r);
    try {
      await Promise.all([video, ...audios].map((c) => peer.request('resumeConsumer', { consumerId: c.id })));
    } catch (err) {
      // The node is gone (or the recording abandoned): no FFmpeg is left behind.
      rendition.close();
      throw err;
    }
    return { rendition, consumers: [video.id, ...audios.map((a) => a.id)] };
  }

  /** A rendition just started: counted open until it closes, its FFmpeg restarts counted. */
  #opened(rendition: Rendition): Rendition {
    if (rendition.closed) return rendition;
    this.#open.add(rendition);
    rendition.on('close', () => this.#open.delete(rendition));
    rendition.on('discontinuity', () => this.#o.metrics.ffmpegRestarted(rendition.id));
    return rendition;
  }

  async #stopCaptures(): Promise<void> {
    const captures = [...this.#captures.values()];
    this.#captures = new Map();
    await Promise.all(captures.map(async ({ rendition, consumers }) => {
      // FFmpeg acts on SIGINT when it next reads a packet: stop it while media still flows.
      await rendition.stop();
      await this.#liveHls.detach(rendition);
      for (const consumerId of consumers) await this.#peer?.request('closeConsumer', { consumerId }).catch(() => undefined);
    }));
    await this.#uploads.settled();
    // Everything is in storage (or failed for good, logged): the local copies go.
    await Promise.all(captures.map(({ rendition }) => rm(rendition.workDir, { recursive: true, force: true })));
  }
}
