import type { types } from 'mediasoup-client';
import type { MediaJoin } from '@podlive/shared/live';
import { MediaSession, type MediaSessionOptions, type MediaState } from '$lib/media/MediaSession';
import { retryDelay, VIEWER_RETRY } from '$lib/media/backoff';
import { carries, hostTrackStates, kindsToCarry, waitUntil } from '$lib/media/handover';
import { exposeForTests } from '$lib/media/test-hooks';
import { request, RequestFailure } from '$lib/live/request';
import type { StageMedia } from '$lib/stage/StageStrip.svelte';

/** Retries this early still name the lost node; later ones don't (the registry knows by then, and a one-node fleet has no other). */
const EXCLUDE_ATTEMPTS = 3;
/** A receive transport that stays this long without media (ICE down) means the node is gone, even if its socket hasn't closed. */
const STALL_MS = 3000;
/** A move swaps to the new node after this long even if it doesn't play yet (the draining node is going away anyway). */
const MOVE_READY_MS = 4000;

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

/**
 * The viewer page's media: one MediaSession at a time on one node, replaced when that node goes.
 * - Node lost (socket closed, or ICE down for STALL_MS): a new token that excludes it, after a short
 *   jittered delay, backing off when that fails. A "Reconnecting…" state meanwhile.
 * - Node draining (moveNode): make-before-break, with no state change the viewer would see: a second
 *   session on another node, and the media elements swap to it once it plays the host.
 * - Origin lost: the host's media stopped; `hostAway` until the host's tracks come back (newProducer).
 */
export class ViewerMedia {
  connection: MediaState | 'waiting' = $state('waiting');
  hasVideo = $state(false);
  soundBlocked = $state(false);
  /** The origin node went away: the host's media stopped until the host resumes. */
  hostAway = $state(false);
  problem: string | null = $state(null);
  /** Guests' tracks as this page consumes them, by user id. */
  guestMedia: Record<string, StageMedia> = $state({});
  #link: Link | null = null;
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
    if (this.#disposed || this.#link || this.#connecting || this.#moving || !this.o.wanted()) return;
    this.#connecting = true;
    clearTimeout(this.#retry);
    if (this.connection === 'waiting' || this.connection === 'closed') this.connection = 'connecting';
    try {
      const link = await this.#open(this.#attempt < EXCLUDE_ATTEMPTS ? this.#exclude : null);
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
      next = await this.#open(from.node);
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
    const { video } = this.o.elements();
    if (listenOnly) {
      if (video) video.srcObject = null;
      this.hasVideo = false;
    }
    await this.media?.setListenOnly(listenOnly);
  }

  soundOn(): void {
    void this.o.elements().audio?.play().then(() => (this.soundBlocked = false));
  }

  /** Closes everything (the live ended, or the page goes away). */
  close(): void {
    clearTimeout(this.#retry);
    clearTimeout(this.#stall);
    const link = this.#link;
    this.#link = null; // first: its closing is then no news to this page
    link?.session.close();
    this.hasVideo = false;
    exposeForTests({ podliveNode: null });
  }

  dispose(): void {
    this.#disposed = true;
    this.close();
  }

  async #open(exclude: string | null): Promise<Link> {
    const query = exclude ? `?exclude=${encodeURIComponent(exclude)}` : '';
    const join = await request<MediaJoin>(`/api/live/${encodeURIComponent(this.o.sessionId)}/token${query}`);
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
    for (const [track, consumer] of link.pending.splice(0)) this.#attach(link.session, track, consumer);
    // Listen only may have been switched while the new session was being made.
    if (link.session.listenOnly !== this.#listenOnly) void link.session.setListenOnly(this.#listenOnly).catch(() => undefined);
    exposeForTests({ podliveMedia: link.session, podliveNode: link.node });
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
    exposeForTests({ podliveNode: null });
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
