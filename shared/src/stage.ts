import { z } from 'zod';
import { lineText } from './text';
import { handleSchema } from './accounts';
import type { IceServer } from './live';

/**
 * The stage-invite contract (/api/stage, /ws events): a host calls a viewer onto the live by
 * @handle, the viewer answers like a phone call. Errors are the usual { error: { code, ... } }.
 */

/** How long an invite rings before it expires (the server's STAGE_INVITE_TTL_MS overrides it). */
export const STAGE_INVITE_TTL_MS = 30_000;
/** Guests on stage at once, per session, unless the server's STAGE_MAX_GUESTS says otherwise. */
export const STAGE_MAX_GUESTS = 4;

export const stageInviteBody = z.strictObject({ sessionId: z.uuid(), handle: handleSchema });
export const stageRejectBody = z.strictObject({ reason: z.enum(['declined', 'permission_denied']).default('declined') });
/** A guest leaving by themselves; `permission_denied` when the browser refused the mic. */
export const stageLeaveBody = z.strictObject({ sessionId: z.uuid(), reason: z.enum(['left', 'permission_denied']).default('left') });
export const stageMuteBody = z.strictObject({ sessionId: z.uuid(), muted: z.boolean() });
export const stageSessionQuery = z.strictObject({ sessionId: z.uuid() });
export const stageSuggestionsQuery = z.strictObject({ q: lineText(30).default('') });

export interface StagePerson {
  id: string;
  handle: string;
  displayName: string;
  avatarUrl: string | null;
}

export type StageInviteStatus = 'pending' | 'accepted' | 'rejected' | 'expired' | 'ended';

export interface StageInvite {
  id: string;
  sessionId: string;
  sessionTitle: string;
  status: StageInviteStatus;
  host: StagePerson;
  invitee: StagePerson;
  /** ISO time the invite expires if unanswered. */
  deadline: string;
  createdAt: string;
}

/**
 * POST /api/stage/invite/:id/accept → the invite and a one-time guest grant: a media token with
 * role `guest` for the node the viewer is connected to, bound to user, session and node, sent on
 * the viewer's EXISTING protoo connection with the `upgradeToGuest` request.
 */
export interface StageAcceptResponse {
  invite: StageInvite;
  /** `iceServers`: TURN for the send transport the guest opens with it (see MediaJoin). */
  grant: { token: string; nodeId: string; iceServers: IceServer[] };
}

export interface StageGuest extends StagePerson {
  /** Muted by the host: the guest cannot unmute until the host allows it. */
  muted: boolean;
  joinedAt: string;
}

/** Suggestions for the host's Invite field: people watching now first, then everyone. */
export interface StageSuggestion extends StagePerson {
  watching: boolean;
}

export type StageLeftReason = 'left' | 'removed' | 'permission_denied' | 'ended';

/** /ws events of the stage (added to WsEvent). */
export type StageWsEvent =
  /** To every connection of the invitee. */
  | { type: 'stage_invite'; invite: StageInvite }
  /** To the host; invitee's other tabs also get accepted/rejected/expired so their modal closes. */
  | { type: 'stage_invite_sent'; invite: StageInvite }
  | { type: 'stage_invite_accepted'; inviteId: string; sessionId: string; userId: string }
  | { type: 'stage_invite_rejected'; inviteId: string; sessionId: string; userId: string; reason: 'declined' | 'permission_denied' }
  | { type: 'stage_invite_expired'; inviteId: string; sessionId: string; userId: string }
  /** The host took back a ringing invite (removed the invitee from the stage before they answered). */
  | { type: 'stage_invite_withdrawn'; inviteId: string; sessionId: string; userId: string }
  /** To everyone in the session. */
  | { type: 'stage_guest_joined'; sessionId: string; guest: StageGuest }
  | { type: 'stage_guest_muted'; sessionId: string; userId: string; muted: boolean }
  | { type: 'stage_guest_left'; sessionId: string; userId: string; reason: StageLeftReason };
