import type { Device, types } from 'mediasoup-client';
import type { MediaNotification, MediaNotifications, ProducerInfo } from '@podlive/shared/protocol';
import { Signalling } from './signalling';
import { watchTransport } from './recovery';
import { readConsumerStats, readInboundStats, readSelectedPath, type ConsumerStats, type InboundStats, type SelectedPath } from './stats';
import { simulcastEncodings } from './simulcast';
import { loadedDevice } from './device-cache';

export type { ConsumerStats, InboundStats };
export type MediaState = 'connecting' | 'connected' | 'reconnecting' | 'closed';
type Direction = 'send' | 'recv';

export interface MediaSessionOptions {
  /** Use only TCP ICE candidates (what a client behind a UDP-blocking network ends up with). */
  forceTcp?: boolean;
  /** TURN servers from the token (MediaJoin.iceServers): the browser relays only when the node's own candidates fail. */
  iceServers?: RTCIceServer[];
  onState?: (state: MediaState) => void;
  /**
   * The connection to the node ended without `close()` here: the node died, or the network
   * dropped. Nothing on this session works any more; connect again (with a new token).
   */
  onLost?: () => void;
  /** The node is draining and asks this viewer to move to another node (make-before-break). */
  onMoveNode?: () => void;
  /**
   * The session's origin node is gone: the host's media stopped (its consumers close). If the
   * host resumes on a new origin, its producers are announced again and consumed as usual.
   */
  onOriginLost?: () => void;
  /** The node closed the room: the live ended (or the node is going away). */
  onRoomClosed?: (reason: MediaNotifications['roomClosed']['reason']) => void;
  /** A remote producer was muted (paused) or unmuted by its owner. */
  onRemotePaused?: (kind: 'audio' | 'video', paused: boolean) => void;
  /**
   * This client's role changed on the node. Back to `viewer` (removed by the host, or left the
   * stage): its producers are already closed here and its tracks stopped when this is called.
   */
  onRoleChanged?: (role: MediaNotifications['roleChanged']['role'], reason: MediaNotifications['roleChanged']['reason']) => void;
  /** The host muted (or unmuted) this guest; while muted, `setMuted(kind, false)` is refused by the node. */
  onMutedByHost?: (muted: boolean) => void;
  /** Who is speaking now on stage (the token subject: a user id), or null for silence. */
  onActiveSpeaker?: (userId: string | null) => void;
}

/** The user a producer belongs to: the node names peers `<user id>#<random>`. */
export const userOfPeer = (peerId: string): string => peerId.split('#')[0] ?? peerId;


/**
 * A browser's media in one live on one SFU node: publish (host, guest) and consume (everyone).
 * Consumers are created paused on the node and resumed once attached here. Transports recover by
 * themselves: ICE restart first, then a new transport (re-consuming or re-publishing).
 */
export class MediaSession {
  readonly consumers = new Map<string, types.Consumer>();
  readonly producers = new Map<string, types.Producer>();
  /** Every producer live in the room, as announced by the node. */
  readonly #remote = new Map<string, ProducerInfo>();
  readonly #transports = new Map<Direction, Promise<types.Transport>>();
  readonly #published: MediaStreamTrack[] = [];
  /** Remote producers paused (muted) by their owner. */
  readonly #paused = new Set<string>();
  #closing = false;
  #onTrack: ((track: MediaStreamTrack, consumer: types.Consumer) => void) | undefined;
  #listenOnly = false;
  #iceServers: RTCIceServer[];

  private constructor(
    readonly signalling: Signalling,
    readonly device: Device,
    readonly options: MediaSessionOptions,
  ) {
    this.#iceServers = options.iceServers ?? [];
  }

  static async connect(url: string, options: MediaSessionOptions = {}): Promise<{ session: MediaSession; producers: ProducerInfo[] }> {
    options.onState?.('connecting');
    const signalling = await Signalling.open(url);
    try {
      const routerRtpCapabilities = await signalling.request('getRouterRtpCapabilities');
      const session = new MediaSession(signalling, await loadedDevice(routerRtpCapabilities), options);
      // A loaded device always lists its codecs (mediasoup-client types them optional; the node requires them).
      const { codecs = [], ...caps } = session.device.rtpCapabilities;
      const { producers } = await signalling.request('join', { rtpCapabilities: { ...caps, codecs } });
      for (const p of producers) session.#remote.set(p.producerId, p);
      signalling.onNotification((n) => session.#notified(n));
      signalling.onClose(() => {
        options.onState?.('closed');
        if (!session.#closing) options.onLost?.();
      });
      return { session, producers };
    } catch (err) {
      signalling.close(); // a half-made connection would stay open on the node otherwise
      throw err;
    }
  }

  get listenOnly(): boolean {
    return this.#listenOnly;
  }

  /** `close()` was called (the connection is gone, or going). */
  get closed(): boolean {
    return this.#closing;
  }

  /** Whether a remote producer is paused (muted) by its owner, as far as this node said. */
  isProducerPaused(producerId: string): boolean {
    return this.#paused.has(producerId);
  }

  /** Publishes a microphone track (Opus) and a camera track (H.264, three simulcast layers). */
  async publish(stream: MediaStream): Promise<void> {
    for (const track of stream.getTracks()) {
      this.#published.push(track);
      await this.#produce(track);
    }
  }

  /** Calls `onTrack` for each remote track, including producers that appear later. */
  async watch(onTrack: (track: MediaStreamTrack, consumer: types.Consumer) => void, { listenOnly = false } = {}): Promise<void> {
    this.#onTrack = onTrack;
    this.#listenOnly = listenOnly;
    await this.#transport('recv');
    await Promise.all([...this.#remote.values()].map((p) => this.#consume(p)));
  }

  /** Listen mode: only the audio consumer stays; the node stops sending video to this viewer. */
  async setListenOnly(listenOnly: boolean): Promise<void> {
    if (listenOnly === this.#listenOnly) return;
    this.#listenOnly = listenOnly;
    if (listenOnly) {
      const video = [...this.consumers.values()].filter((c) => c.kind === 'video');
      await Promise.all(video.map(async (c) => {
        c.close();
        this.consumers.delete(c.id);
        await this.signalling.request('closeConsumer', { consumerId: c.id }).catch(() => undefined);
      }));
    } else {
      await Promise.all([...this.#remote.values()].filter((p) => p.kind === 'video').map((p) => this.#consume(p)));
    }
  }

  /** Mute or unmute this client's own microphone or camera (here and on the node). */
  async setMuted(kind: 'audio' | 'video', muted: boolean): Promise<void> {
    for (const producer of this.producers.values()) {
      if (producer.kind !== kind) continue;
      if (muted) producer.pause();
      else producer.resume();
      await this.signalling.request(muted ? 'pauseProducer' : 'resumeProducer', { producerId: producer.id });
    }
  }

  /**
   * A viewer called onto the stage presents its one-time guest grant on this connection; once
   * the node accepts it, `publish` may open a send transport here (no reconnect, playback goes on).
   */
  async upgradeToGuest(token: string, iceServers?: RTCIceServer[]): Promise<void> {
    if (iceServers !== undefined) this.#iceServers = iceServers;
    await this.signalling.request('upgradeToGuest', { token });
  }

  /** Stops publishing: closes this client's producers and send transport, stops their tracks. */
  unpublish(): void {
    this.#dropPublished();
    const send = this.#transports.get('send');
    this.#transports.delete('send');
    void send?.then((t) => t.close(), () => undefined);
  }

  /** Who owns a consumer's producer (user id), when the node announced it. */
  ownerOf(consumer: Pick<types.Consumer, 'producerId'>): string | undefined {
    const peerId = this.#remote.get(consumer.producerId)?.peerId;
    return peerId === undefined ? undefined : userOfPeer(peerId);
  }

  /** Inbound stats per consumer, with the owner of each (tests watch one guest's packets). */
  async consumerStats(): Promise<ConsumerStats[]> {
    return readConsumerStats([...this.consumers.values()], (c) => this.ownerOf(c) ?? null);
  }

  inboundStats(): Promise<InboundStats> {
    return readInboundStats([...this.consumers.values()]);
  }

  /** The ICE candidate pair a transport uses (tests check a firewalled browser goes through TURN). */
  async selectedPath(direction: Direction): Promise<SelectedPath | null> {
    const transport = await this.#transports.get(direction);
    return transport === undefined ? null : readSelectedPath(transport);
  }

  /** The transport's id on the node (tests use it to close it from the server side). */
  async transportId(direction: Direction): Promise<string | undefined> {
    return (await this.#transports.get(direction))?.id;
  }

  close(): void {
    this.#closing = true;
    for (const transport of this.#transports.values()) void transport.then((t) => t.close(), () => undefined);
    this.signalling.close();
  }

  #notified(n: MediaNotification): void {
    switch (n.method) {
      case 'newProducer':
        this.#remote.set(n.data.producerId, n.data);
        void this.#consume(n.data);
        break;
      case 'producerClosed':
        this.#remote.delete(n.data.producerId);
        this.#paused.delete(n.data.producerId);
        break;
      case 'consumerClosed':
        this.consumers.get(n.data.consumerId)?.close();
        this.consumers.delete(n.data.consumerId);
        break;
      case 'roomClosed':
        this.options.onRoomClosed?.(n.data.reason);
        break;
      case 'producerPaused': {
        const { producerId, paused } = n.data;
        if (paused) this.#paused.add(producerId);
        else this.#paused.delete(producerId);
        const kind = this.#remote.get(producerId)?.kind;
        if (kind) this.options.onRemotePaused?.(kind, paused);
        break;
      }
      case 'roleChanged':
        if (n.data.role === 'viewer') this.unpublish();
        this.options.onRoleChanged?.(n.data.role, n.data.reason);
        break;
      case 'mutedByHost':
        this.options.onMutedByHost?.(n.data.muted);
        break;
      case 'activeSpeaker':
        this.options.onActiveSpeaker?.(n.data.userId);
        break;
      case 'moveNode':
        this.options.onMoveNode?.();
        break;
      case 'originLost':
        this.options.onOriginLost?.();
        break;
      case 'transportClosed': {
        const id = n.data.transportId;
        for (const pending of this.#transports.values()) void pending.then((t) => (t.id === id ? this.#replace(t) : undefined), () => undefined);
        break;
      }
    }
  }

  #dropPublished(): void {
    for (const producer of [...this.producers.values()]) producer.close();
    this.producers.clear();
    for (const track of this.#published.splice(0)) track.stop();
  }

  async #produce(track: MediaStreamTrack): Promise<void> {
    const transport = await this.#transport('send');
    const h264 = this.device.rtpCapabilities.codecs?.find((c) => c.mimeType.toLowerCase() === 'video/h264');
    const producer =
      track.kind === 'audio'
        ? await transport.produce({ track, stopTracks: false, appData: { source: 'mic' } })
        : await transport.produce({ track, stopTracks: false, encodings: simulcastEncodings(track.getSettings().height), codec: h264, appData: { source: 'camera' } });
    this.producers.set(producer.id, producer);
    producer.observer.on('close', () => this.producers.delete(producer.id));
  }

  async #consume(producer: ProducerInfo): Promise<void> {
    if (!this.#onTrack || (this.#listenOnly && producer.kind === 'video')) return;
    if ([...this.consumers.values()].some((c) => c.producerId === producer.producerId)) return;
    const transport = await this.#transport('recv');
    const info = await this.signalling.request('consume', { producerId: producer.producerId, transportId: transport.id });
    if (info.producerPaused) this.#paused.add(producer.producerId);
    const consumer = await transport.consume(info);
    this.consumers.set(consumer.id, consumer);
    consumer.observer.on('close', () => this.consumers.delete(consumer.id));
    this.#onTrack(consumer.track, consumer);
    await this.signalling.request('resumeConsumer', { consumerId: consumer.id });
  }

  /** One transport per direction, created on first use (concurrent callers share it). */
  #transport(direction: Direction): Promise<types.Transport> {
    let transport = this.#transports.get(direction);
    if (!transport) {
      transport = this.#createTransport(direction);
      this.#transports.set(direction, transport);
      transport.catch(() => this.#transports.delete(direction));
    }
    return transport;
  }

  /** Drops a dead transport and everything on it, then rebuilds on a new one. */
  async #replace(old: types.Transport): Promise<void> {
    const direction = old.direction;
    if ((await this.#transports.get(direction)) !== old) return;
    this.#transports.delete(direction);
    old.close();
    if (direction === 'recv') {
      this.options.onState?.('reconnecting');
      this.consumers.clear();
      await Promise.all([...this.#remote.values()].map((p) => this.#consume(p)));
    } else {
      this.producers.clear();
      if (this.#published.length === 0) return;
      try {
        // The node refuses a send transport to a guest it just sent back to the audience (its
        // roleChanged notification follows the transport's closing): then there is nothing to redo.
        await this.#transport('send');
      } catch {
        this.#dropPublished();
        return;
      }
      this.options.onState?.('reconnecting');
      for (const track of this.#published) if (track.readyState === 'live') await this.#produce(track);
    }
  }

  async #createTransport(direction: Direction): Promise<types.Transport> {
    const info = await this.signalling.request('createWebRtcTransport', { direction });
    if (this.options.forceTcp) info.iceCandidates = info.iceCandidates.filter((c) => c.protocol === 'tcp');
    const options = { ...info, iceServers: this.#iceServers };
    const transport = direction === 'send' ? this.device.createSendTransport(options) : this.device.createRecvTransport(options);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signalling.request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
        this.signalling.request('produce', { transportId: transport.id, kind, rtpParameters, appData }).then(callback, errback);
      });
    }
    watchTransport(transport, {
      restartIce: async (t) => t.restartIce({ iceParameters: await this.signalling.request('restartIce', { transportId: t.id }) }),
      replace: (t) => this.#replace(t),
      onState: (state) => this.options.onState?.(state),
    });
    return transport;
  }
}
