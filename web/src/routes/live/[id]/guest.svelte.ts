import type { WsEvent } from '@podlive/shared/ws';
import type { StageInvite, StageLeftReason } from '@podlive/shared/stage';
import type { MediaSession } from '$lib/media/MediaSession';
import { CAMERA_CONSTRAINTS } from '$lib/media/simulcast';
import { RequestFailure } from '$lib/live/request';
import { stageApi } from '$lib/stage/api';
import { watchLevel } from '$lib/stage/level';

/** Where this viewer is in a call onto the stage. */
export type GuestPhase = 'idle' | 'ringing' | 'joining' | 'mic-check' | 'on-stage';

/** How long the mic check waits for sound before going on stage anyway. */
const MIC_CHECK_MS = 1500;
/** A level the meter reads as "we hear you". */
const HEARD_LEVEL = 0.02;

/**
 * The viewer's side of the stage on /live/[id]: the incoming call, answering it (grant → upgrade
 * on the existing media connection → microphone and camera → mic check → publish), the guest's
 * own controls, and going back to plain viewing (left, removed, permission refused).
 */
export class GuestStage {
  phase: GuestPhase = $state('idle');
  invite: StageInvite | null = $state(null);
  /** "Also turn on camera" in the call screen. */
  camera = $state(true);
  level = $state(0);
  micMuted = $state(false);
  cameraMuted = $state(false);
  mutedByHost = $state(false);
  /** What to tell the viewer (removed, permission refused, invite gone...). */
  message: string | null = $state(null);
  /** This guest's own camera, for the stage strip. */
  preview: MediaStreamTrack | null = $state(null);
  #stopLevel: (() => void) | undefined;

  constructor(
    readonly sessionId: string,
    readonly userId: string,
    readonly media: () => MediaSession | null,
    /** The page watches the live's HLS: connect to a node (WebRTC) to answer; null when none could take it. */
    readonly toWebRtc: () => Promise<MediaSession | null> = async () => null,
  ) {}

  /** Applies the /ws events meant for this user. */
  onEvent(event: WsEvent): void {
    if (event.type === 'stage_invite') {
      if (event.invite.sessionId !== this.sessionId || event.invite.invitee.id !== this.userId) return;
      if (this.phase !== 'idle') return;
      this.invite = event.invite;
      this.message = null;
      this.phase = 'ringing';
    } else if (
      event.type === 'stage_invite_accepted' || event.type === 'stage_invite_rejected' || event.type === 'stage_invite_expired' || event.type === 'stage_invite_withdrawn'
    ) {
      // Answered in another tab (or it rang out, or the host took it back): this tab's call screen goes away.
      if (this.invite?.id !== event.inviteId || this.phase !== 'ringing') return;
      this.invite = null;
      this.phase = 'idle';
      if (event.type === 'stage_invite_expired') this.message = 'The stage invite expired.';
      if (event.type === 'stage_invite_withdrawn') this.message = 'The host withdrew the stage invite.';
    } else if (event.type === 'stage_guest_left' && event.sessionId === this.sessionId && event.userId === this.userId) {
      this.#offStage(event.reason);
    } else if (event.type === 'stage_guest_muted' && event.sessionId === this.sessionId && event.userId === this.userId) {
      this.mutedByHost = event.muted;
    }
  }

  /** The invite rang out here before the server said so. */
  expire(): void {
    if (this.phase !== 'ringing') return;
    this.invite = null;
    this.phase = 'idle';
    this.message = 'The stage invite expired.';
  }

  async decline(): Promise<void> {
    const invite = this.invite;
    this.invite = null;
    this.phase = 'idle';
    if (invite) await stageApi.reject(invite.id, 'declined').catch(() => undefined);
  }

  async accept(): Promise<void> {
    const invite = this.invite;
    if (!invite || this.phase !== 'ringing') return;
    this.phase = 'joining';
    // Watching the HLS (past the live's WebRTC capacity): a node first, the stage on it.
    const media = this.media() ?? (await this.toWebRtc().catch(() => null));
    if (!media) {
      this.phase = 'ringing';
      this.message = 'The live is not playing here yet, so you cannot join the stage from this page.';
      return this.decline();
    }
    let stream: MediaStream;
    let accepted = false;
    try {
      const { grant } = await stageApi.accept(invite.id);
      accepted = true;
      await media.upgradeToGuest(grant.token, grant.iceServers);
    } catch (err) {
      // Accepted but not let on by the media node (removed meanwhile, or it could not check): off the host's list too.
      if (accepted) await stageApi.leave(this.sessionId, 'left').catch(() => undefined);
      this.#reset(err instanceof RequestFailure && err.status === 410 ? 'The stage invite expired.' : `Could not join the stage: ${errorText(err)}`);
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: this.camera ? CAMERA_CONSTRAINTS : false });
    } catch (err) {
      await stageApi.leave(this.sessionId, 'permission_denied').catch(() => undefined);
      this.#reset(
        err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'SecurityError')
          ? 'Your browser did not let PodLive use your microphone, so you were not put on stage. Allow the microphone for this site and ask the host to invite you again.'
          : `Your microphone could not be started (${errorText(err)}), so you were not put on stage.`,
      );
      return;
    }
    this.phase = 'mic-check';
    const mic = stream.getAudioTracks()[0];
    if (mic) await this.#micCheck(mic);
    try {
      await media.publish(stream);
    } catch (err) {
      for (const track of stream.getTracks()) track.stop();
      await stageApi.leave(this.sessionId, 'left').catch(() => undefined);
      this.#reset(`Could not go on stage: ${errorText(err)}`);
      return;
    }
    this.preview = stream.getVideoTracks()[0] ?? null;
    this.micMuted = false;
    this.cameraMuted = !this.preview;
    this.invite = null;
    this.phase = 'on-stage';
  }

  async toggle(kind: 'audio' | 'video'): Promise<void> {
    const media = this.media();
    if (!media || this.mutedByHost) return;
    const muted = kind === 'audio' ? !this.micMuted : !this.cameraMuted;
    try {
      await media.setMuted(kind, muted);
      if (kind === 'audio') this.micMuted = muted;
      else this.cameraMuted = muted;
    } catch (err) {
      this.message = `Could not ${muted ? 'mute' : 'unmute'}: ${errorText(err)}`;
    }
  }

  async leave(): Promise<void> {
    if (this.phase !== 'on-stage') return;
    try {
      await stageApi.leave(this.sessionId, 'left');
    } catch (err) {
      this.message = `Could not leave the stage: ${errorText(err)}`;
      return;
    }
    this.media()?.unpublish();
    this.#offStage('left');
  }

  /** The media node changed this peer's role (its producers are already closed). */
  roleChanged(role: 'viewer' | 'guest', reason: 'removed' | 'left' | undefined): void {
    if (role === 'viewer') this.#offStage(reason ?? 'left');
  }

  dispose(): void {
    this.#stopLevel?.();
  }

  /** Shows the level meter and waits (briefly) until the mic is heard. */
  async #micCheck(mic: MediaStreamTrack): Promise<void> {
    this.#stopLevel?.();
    let heard: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (heard = resolve));
    this.#stopLevel = watchLevel(mic, (level) => {
      this.level = level;
      if (level > HEARD_LEVEL) heard();
    });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, MIC_CHECK_MS))]);
  }

  #offStage(reason: StageLeftReason): void {
    if (this.phase !== 'on-stage' && this.phase !== 'mic-check') return;
    this.media()?.unpublish();
    this.#reset(reason === 'removed' ? 'The host removed you from the stage' : reason === 'ended' ? null : 'You left the stage.');
  }

  #reset(message: string | null): void {
    this.#stopLevel?.();
    this.#stopLevel = undefined;
    this.level = 0;
    this.invite = null;
    this.preview = null;
    this.mutedByHost = false;
    this.phase = 'idle';
    this.message = message;
  }
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
