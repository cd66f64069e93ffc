import type { WsEvent } from '@podlive/shared/ws';
import type { StageGuest, StageLeftReason } from '@podlive/shared/stage';
import { stageApi } from './api';

/**
 * Who is on the stage of one live, kept current from GET guests and the session's /ws events,
 * plus who is speaking (from the media node's activeSpeaker notifications).
 */
export class StageRoster {
  guests: StageGuest[] = $state([]);
  /** User id of the loudest person on stage now (a guest or the host), or null. */
  speaking: string | null = $state(null);

  constructor(
    readonly sessionId: string,
    /** Called when someone leaves the stage (after the roster dropped them). */
    readonly onLeft?: (userId: string, reason: StageLeftReason) => void,
  ) {}

  /** Loads the current guests (events that arrive meanwhile win: they are newer). */
  async load(): Promise<void> {
    const guests = await stageApi.guests(this.sessionId).catch(() => null);
    if (!guests) return;
    const known = this.guests.map((g) => g.id);
    this.guests = [...this.guests, ...guests.filter((g) => !known.includes(g.id))];
  }

  /** Applies a /ws event if it is about this live's stage; true when it was. */
  apply(event: WsEvent): boolean {
    if (!('sessionId' in event) || event.sessionId !== this.sessionId) return false;
    if (event.type === 'stage_guest_joined') {
      this.guests = [...this.guests.filter((g) => g.id !== event.guest.id), event.guest];
    } else if (event.type === 'stage_guest_muted') {
      this.guests = this.guests.map((g) => (g.id === event.userId ? { ...g, muted: event.muted } : g));
    } else if (event.type === 'stage_guest_left') {
      this.guests = this.guests.filter((g) => g.id !== event.userId);
      if (this.speaking === event.userId) this.speaking = null;
      this.onLeft?.(event.userId, event.reason);
    } else {
      return false;
    }
    return true;
  }

  has(userId: string | null | undefined): boolean {
    return userId != null && this.guests.some((g) => g.id === userId);
  }
}
