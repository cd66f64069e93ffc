import type { types } from 'mediasoup-client';
import type { HlsJoin, MediaJoin, ViewerJoin } from '@podlive/shared/live';
import { MediaSession, type MediaSessionOptions, type MediaState } from '$lib/media/MediaSession';
import { hlsRecheckDelay, retryDelay, VIEWER_RETRY } from '$lib/media/backoff';
import { carries, hostTrackStates, kindsToCarry, playsHost, waitUntil } from '$lib/media/handover';
import { HlsPlayback } from '$lib/media/hls-playback';
import { exposeForTests } from '$lib/media/test-hooks';
import { request, RequestFailure } from '$lib/live/request';
import type { StageMedia } from '$lib/stage/StageStrip.svelte';

/** Retries this early still name the lost node; later ones don't (the registry knows by then, and a one-node fleet has no other). */
const EXCLUDE_ATTEMPTS = 3;
/** A receive transport that stays this long without media (ICE down) means the node is gone, even if its socket hasn't closed. */
const STALL_MS = 3000;
/** A move swaps to the new node after this long even if it doesn't play yet (the draining node is going away anyway). */
const MOVE_READY_MS = 4000;
/** Leaving HLS: a WebRTC session that doesn't play the host's media this soon is dropped (HLS plays on; asked again later). */
const UPGRADE_READY_MS = 8000;

export interface ViewerMediaOptions {
  sessionId: string;
  hostId: string;
  elements: () => { video: HTMLVideoElement | null; audio: HTMLAudioElement | null };
  /** Whether the page wants media now: the live is on and the page open. */
  wanted: () => boolean;
  /** The live ended (the node closed the room for it, or the token route said so). */
  onEnded: () => void;
  /** On the stage or joining it: this page produces on its node and must not move off it. */
  onStage: () => boolean;
  /** The page's stage callbacks; only the session playing now calls them. */
  events: Pick<MediaSessionOptions, 'onActiveSpeaker' | 'onMutedByHost' | 'onRoleChanged'>;
}

/** One connection to one node. Tracks wait in `pending` until it is the one playing. */
interface Link {
  session: MediaSession;
  node: string | null;
  pending: [MediaStreamTrack, types.Consumer][];
  lost: boolean;
  /** How the node closed the room, if it did before the connection ended. */
  closedFor?: string;
}

/** Watching HLS: the token route's answer, and the playlist playing now (null while hls.js loads). */
interface HlsDelivery {
  join: HlsJoin;
  playback: HlsPlayback | null;
  /** Bumped by each (re)start of the playback: an older start that resolves late is thrown away. */
  starts: number;
}

/**
 * The viewer page's media: one MediaSession at a time on one node, replaced when that node goes.
 * - Node lost (socket closed, or ICE down for STALL_MS): a new token that excludes it, after a short
 *   jittered delay, backing off when that fails. A "Reconnecting…" state meanwhile.
 * - Node draining (moveNode): make-before-break, with no state change the viewer would see: a second
 *   session on another node, and the media elements swap to it once it plays the host.
 * - Origin lost: the host's media stopped; `hostAway` until the host's tracks come back (newProducer).
 * - HLS (the token route said so: a cap, or no node with room): the live's low-latency playlists
 *   play in the page's own elements, a few seconds behind. The token route is asked again after
 *   its `retryAfterSec` (jittered); once it answers WebRTC, the new session's media replaces HLS as
 *   soon as it plays the host (make-before-break, like a move).
 */
export class ViewerMedia {
  connection: MediaState | 'waiting' = $state('waiting');
  /** How the host's media reaches the page now (null: not yet, or closed). */
  delivery: 'webrtc' | 'hls' | null = $state(null);
  hasVideo = $state(false);
  soundBlocked = $state(false);
  /** The origin node went away: the host's media stopped until the host resumes. */
  hostAway = $state(false);
  problem: string | null = $state(null);
  /** Guests' tracks as this page consumes them, by user id. */
  guestMedia: Record<string, StageMedia> = $state({});
  #link: Link | null = null;
  #hls: HlsDelivery | null = null;
  /** While on HLS: the next time the token route is asked for WebRTC. */
  #recheck: ReturnType<typeof setTimeout> | undefined;
  #listenOnly = false;
  #connecting = false;
  #moving = false;
  /** A moveNode that came while on stage: done once the page is a plain viewer again. */
  #moveWanted = false;
  #attempt = 0;
  #exclude: string | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #stall: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(readonly o: ViewerMediaOptions) {}

  /** The session playing now (the stage uses it to go on stage on this connection). */
  get media(): MediaSession | null {
    return this.#link?.session ?? null;
  }

  get node(): string | null {
    return this.#link?.node ?? null;
  }

  /** Connects unless connected (or connecting): the page calls it whenever the live may have started. */
  async connect(): Promise<void> {
    if (this.#disposed || this.#link || this.#hls || this.#connecting || this.#moving || !this.o.wanted()) return;
    this.#connecting = true;
    clearTimeout(this.#retry);
    if (this.connection === 'waiting' || this.connection === 'closed') this.connection = 'connecting';
    try {
      const join = await this.#join(this.#attempt < EXCLUDE_ATTEMPTS ? this.#exclude : null);
      if (this.#disposed || !this.o.wanted()) return;
      if (join.mode === 'hls') return this.#playHls(join);
      const link = await this.#open(join);
      if (this.#disposed || !this.o.wanted()) return link.session.close();
      this.#activate(link);
    } catch (err) {
      this.#failed(err);
    } finally {
      this.#connecting = false;
    }
  }

  /** Make-before-break to another node (the node asked: it is draining). */
  async move(): Promise<void> {
    const from = this.#link;
    if (this.#disposed || !from || this.#moving || this.#connecting) return;
    if (this.o.onStage()) {
      this.#moveWanted = true;
      return;
    }
    this.#moving = true;
    let next: Link | null = null;
    try {
      const need = kindsToCarry(await hostTrackStates(from.session, this.o.hostId));
      const join = await this.#join(from.node);
      if (join.mode === 'hls') {
        // No other node has room for this page: HLS instead (it needs no node), and the draining one is let go.
        if (this.#disposed || !this.o.wanted() || this.o.onStage() || this.#link !== from) {
          if (this.o.onStage()) this.#moveWanted = true;
          return;
        }
        this.#link = null;
        clearTimeout(this.#stall);
        from.session.close();
        return this.#playHls(join);
      }
      next = await this.#open(join);
      const candidate = next;
      await waitUntil(
        async () => {
          if (candidate.lost) throw new Error('the new node went away');
          return carries(await hostTrackStates(candidate.session, this.o.hostId), need);
        },
        { timeoutMs: MOVE_READY_MS, intervalMs: 100 },
      );
      // Something else happened meanwhile (the page went on stage, the live ended, a reconnect won).
      if (this.#disposed || !this.o.wanted() || this.o.onStage() || (this.#link !== from && this.#link !== null)) {
        if (this.o.onStage()) this.#moveWanted = true;
        return next.session.close();
      }
      this.#activate(next);
      from.session.close();
    } catch (err) {
      next?.session.close();
      this.problem = errorText(err);
      // The old node plays on: ask again a bit later (it will close if it can't wait).
      if (this.#link === from) this.#retry = setTimeout(() => this.#link === from && void this.move(), retryDelay(1, VIEWER_RETRY));
      else if (this.#link === null) this.#failed(err); // it went while moving
    } finally {
      this.#moving = false;
    }
  }

  /** The stage phase changed: a move put off while on stage happens now. */
  stageChanged(): void {
    if (!this.#moveWanted || this.o.onStage()) return;
    this.#moveWanted = false;
    void this.move();
  }

  async setListenOnly(listenOnly: boolean): Promise<void> {
    this.#listenOnly = listenOnly;
    // HLS: the audio-only playlist in <audio>, or back to the video playlist in <video>.
    if (this.#hls) return this.#startPlayback(this.#hls);
    const { video } = this.o.elements();
    if (listenOnly) {
      if (video) video.srcObject = null;
      this.hasVideo = false;
    }
    await this.media?.setListenOnly(listenOnly);
  }

  soundOn(): void {
    // On HLS the sound is in the element playing the playlist, kept muted while the browser refused sound.
    const hlsElement = this.#hls?.playback?.element;
    if (hlsElement) hlsElement.muted = false;
    void (hlsElement ?? this.o.elements().audio)?.play().then(() => (this.soundBlocked = false));
  }

  /** Closes everything (the live ended, or the page goes away). */
  close(): void {
    clearTimeout(this.#retry);
    clearTimeout(this.#stall);
    this.#stopHls();
    const link = this.#link;
    this.#link = null; // first: its closing is then no news to this page
    link?.session.close();
    this.hasVideo = false;
    this.delivery = null;
    exposeForTests({ podliveNode: null, podliveDelivery: null });
  }

  dispose(): void {
    this.#disposed = true;
    this.close();
  }

  /**
   * On HLS and answering a stage invite: WebRTC now, whatever the live's WebRTC cap (a guest
   * produces on the node it watches on). Resolves with the session playing, or null when the page
   * is still on HLS (no node could take it).
   */
  async toWebRtcForStage(): Promise<MediaSession | null> {
    if (this.#hls) {
      clearTimeout(this.#recheck);
      await this.#recheckNow(true);
    }
    return this.media;
  }

  /** Asks the token route where to get the live from: a node (WebRTC), or HLS. */
  #join(exclude: string | null, stage = false): Promise<ViewerJoin> {
    const params = [...(exclude ? [`exclude=${encodeURIComponent(exclude)}`] : []), ...(stage ? ['stage=1'] : [])];
    const query = params.length > 0 ? `?${params.join('&')}` : '';
    return request<ViewerJoin>(`/api/live/${encodeURIComponent(this.o.sessionId)}/token${query}`);
  }

  /** A MediaSession on the node `join` names, watching the room; its tracks wait in `pending`. */
  async #open(join: MediaJoin): Promise<Link> {
    // Until the control plane names the node, a page can't exclude it (older servers: no `node`).
    const link: Link = { session: null as unknown as MediaSession, node: typeof join.node === 'string' ? join.node : null, pending: [], lost: false };
    const playing = () => this.#link === link;
    const { session } = await MediaSession.connect(`${join.url}/?token=${encodeURIComponent(join.token)}`, {
      iceServers: join.iceServers ?? [],
      onState: (state) => playing() && this.#state(state),
      onLost: () => this.#lost(link),
      onRoomClosed: (reason) => {
        link.closedFor = reason;
        if (reason === 'ended') this.o.onEnded();
      },
      onMoveNode: () => playing() && void this.move(),
      onOriginLost: () => {
        if (!playing()) return;
        this.hostAway = true;
        this.hasVideo = false;
      },
      onActiveSpeaker: (userId) => playing() && this.o.events.onActiveSpeaker?.(userId),
      onMutedByHost: (muted) => playing() && this.o.events.onMutedByHost?.(muted),
      onRoleChanged: (role, reason) => playing() && this.o.events.onRoleChanged?.(role, reason),
    });
    link.session = session;
    try {
      await session.watch((track, consumer) => (playing() ? this.#attach(session, track, consumer) : link.pending.push([track, consumer])), { listenOnly: this.#listenOnly });
    } catch (err) {
      session.close();
      throw err;
    }
    if (link.lost) throw new Error('the media node went away');
    return link;
  }

  /** `link` becomes the one playing: its tracks go to the page. */
  #activate(link: Link): void {
    clearTimeout(this.#stall);
    this.#link = link;
    this.#attempt = 0;
    this.#exclude = null;
    this.connection = 'connected';
    this.delivery = 'webrtc';
    for (const [track, consumer] of link.pending.splice(0)) this.#attach(link.session, track, consumer);
    // Listen only may have been switched while the new session was being made.
    if (link.session.listenOnly !== this.#listenOnly) void link.session.setListenOnly(this.#listenOnly).catch(() => undefined);
    exposeForTests({ podliveMedia: link.session, podliveNode: link.node, podliveDelivery: 'webrtc' });
  }

  #state(state: MediaState): void {
    this.connection = state === 'closed' ? 'reconnecting' : state;
    clearTimeout(this.#stall);
    // ICE down for a while and no recovery: the node is likely gone (a machine that vanished
    // closes no socket). A guest's send side recovers by itself: never tear that down.
    if (state === 'reconnecting' && !this.o.onStage()) {
      const link = this.#link;
      this.#stall = setTimeout(() => {
        if (!link || this.#link !== link || this.connection !== 'reconnecting') return;
        this.#lost(link);
        link.session.close();
      }, STALL_MS);
    }
  }

  #lost(link: Link): void {
    if (link.lost) return;
    link.lost = true;
    if (this.#link !== link) return; // a move's new session: the move fails by itself
    clearTimeout(this.#stall);
    this.#link = null;
    exposeForTests({ podliveNode: null, podliveDelivery: null });
    this.delivery = null;
    // A worker died, not the node: the node is still a fine place to go back to.
    this.#exclude = link.closedFor === 'worker_died' ? null : link.node;
    this.hasVideo = false;
    this.connection = 'reconnecting';
    if (!this.#moving) this.#schedule();
  }

  #failed(err: unknown): void {
    if (err instanceof RequestFailure && err.code === 'LIVE_ENDED') return this.o.onEnded();
    this.problem = errorText(err);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#disposed || !this.o.wanted()) return;
    this.connection = 'reconnecting';
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => void this.connect(), retryDelay(this.#attempt++, VIEWER_RETRY));
  }

  /** HLS becomes the delivery (nothing else plays now): start it, and ask for WebRTC again later. */
  async #playHls(join: HlsJoin): Promise<void> {
    clearTimeout(this.#stall);
    const hls: HlsDelivery = { join, playback: null, starts: 0 };
    this.#hls = hls;
    this.#attempt = 0;
    this.#exclude = null;
    this.delivery = 'hls';
    this.connection = 'connected';
    this.hostAway = false;
    this.guestMedia = {}; // guests' tracks came from a session; the playlists carry the host only
    exposeForTests({ podliveNode: null, podliveDelivery: 'hls' });
    this.#recheckLater(join.retryAfterSec);
    await this.#startPlayback(hls);
  }

  /** (Re)starts `hls`'s playlist in the element listen-only calls for: <video>, or the audio-only playlist in <audio>. */
  async #startPlayback(hls: HlsDelivery): Promise<void> {
    const start = ++hls.starts;
    hls.playback?.destroy();
    hls.playback = null;
    const { video, audio } = this.o.elements();
    // WebRTC tracks left from before: sound comes from the playlist now.
    if (audio) audio.srcObject = null;
    if (video) video.srcObject = null;
    this.hasVideo = false;
    const listenOnly = this.#listenOnly;
    const element = listenOnly ? audio : video;
    if (!element) return;
    const current = () => this.#hls === hls && hls.starts === start;
    try {
      const playback = await HlsPlayback.start(element, listenOnly ? hls.join.audioPlaylist : hls.join.playlist, {
        cancelled: () => !current(),
        onPlaying: () => {
          if (!current()) return;
          if (!listenOnly) this.hasVideo = true;
          this.problem = null;
        },
        onFailed: (reason) => current() && this.#hlsFailed(reason),
      });
      if (!playback) return;
      hls.playback = playback;
      exposeForTests({ podliveHls: playback.hls });
      void this.#playWithSound(element, current); // resolves once it plays, which may be a while
    } catch (err) {
      if (current()) this.#hlsFailed(errorText(err));
    }
  }

  /** Plays `element` with sound if the browser lets the page; muted otherwise (`soundBlocked` → the "Turn sound on" button). */
  async #playWithSound(element: HTMLMediaElement, current: () => boolean): Promise<void> {
    element.muted = false;
    try {
      await element.play();
      if (current()) this.soundBlocked = false;
    } catch (err) {
      // AbortError and the like: a newer load replaced this one, which plays by itself.
      if (!current() || !(err instanceof DOMException && err.name === 'NotAllowedError')) return;
      element.muted = true;
      this.soundBlocked = true;
      await element.play().catch(() => undefined);
    }
  }

  /** The playlist could not be played (hls.js gave up): ask the token route again, as after a lost node. */
  #hlsFailed(reason: string): void {
    this.#stopHls();
    this.delivery = null;
    this.hasVideo = false;
    exposeForTests({ podliveDelivery: null });
    this.problem = reason;
    this.#schedule();
  }

  /** Stops HLS, if it plays (leaving it for WebRTC, closing, or after a failure). */
  #stopHls(): void {
    clearTimeout(this.#recheck);
    const hls = this.#hls;
    if (!hls) return;
    this.#hls = null;
    hls.playback?.destroy();
    hls.playback = null;
    // The element that had the sound: muted again for WebRTC (its sound goes through <audio>).
    const { video } = this.o.elements();
    if (video) video.muted = true;
    exposeForTests({ podliveHls: null });
  }

  #recheckLater(retryAfterSec: number): void {
    clearTimeout(this.#recheck);
    this.#recheck = setTimeout(() => void this.#recheckNow(), hlsRecheckDelay(retryAfterSec));
  }

  /**
   * On HLS: asks the token route again (`stage`: for a stage invite); a WebRTC answer replaces HLS
   * once its session plays the host.
   */
  async #recheckNow(stage = false): Promise<void> {
    const hls = this.#hls;
    if (!hls || this.#disposed || !this.o.wanted()) return;
    let link: Link | null = null;
    try {
      const join = await this.#join(null, stage);
      if (this.#hls !== hls) return;
      if (join.mode === 'hls') {
        const moved = join.playlist !== hls.join.playlist || join.audioPlaylist !== hls.join.audioPlaylist;
        hls.join = join;
        if (moved) void this.#startPlayback(hls);
        return this.#recheckLater(join.retryAfterSec);
      }
      const next = await this.#open(join);
      link = next;
      const ready = await waitUntil(
        async () => {
          if (next.lost) throw new Error('the media node went away');
          return this.#hls !== hls || playsHost(await hostTrackStates(next.session, this.o.hostId));
        },
        { timeoutMs: UPGRADE_READY_MS, intervalMs: 100 },
      );
      if (this.#hls !== hls || this.#disposed || !this.o.wanted()) return next.session.close();
      if (!ready) throw new Error('the media node did not play the host in time');
      // Break: HLS stops and the elements take the session's tracks in the same task.
      this.#stopHls();
      this.#activate(next);
    } catch (err) {
      link?.session.close();
      if (err instanceof RequestFailure && err.code === 'LIVE_ENDED') return this.o.onEnded();
      // HLS plays on; ask again later.
      if (this.#hls === hls) this.#recheckLater(hls.join.retryAfterSec);
    }
  }

  #attach(session: MediaSession, track: MediaStreamTrack, consumer: types.Consumer): void {
    const owner = session.ownerOf(consumer);
    if (owner && owner !== this.o.hostId) {
      // A guest's track: it plays in the stage strip, until its consumer closes.
      const kind = track.kind === 'video' ? 'video' : 'audio';
      this.guestMedia = { ...this.guestMedia, [owner]: { ...this.guestMedia[owner], [kind]: track } };
      consumer.observer.once('close', () => {
        if (this.guestMedia[owner]?.[kind] !== track) return;
        const { [kind]: _gone, ...rest } = this.guestMedia[owner];
        this.guestMedia = { ...this.guestMedia, [owner]: rest };
      });
      return;
    }
    const { video, audio } = this.o.elements();
    this.hostAway = false;
    if (track.kind === 'video' && video) {
      video.srcObject = new MediaStream([track]);
      this.hasVideo = true;
      // The host's video went (origin lost, host stopped); not when an old session closes after a move.
      consumer.observer.once('close', () => {
        if ((video.srcObject as MediaStream | null)?.getVideoTracks()[0] === track) this.hasVideo = false;
      });
    }
    if (track.kind === 'audio' && audio) {
      audio.srcObject = new MediaStream([track]);
      audio.play().then(
        () => (this.soundBlocked = false),
        () => (this.soundBlocked = true),
      );
    }
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
