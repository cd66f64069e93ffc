import { z } from 'zod';
import type { MediaRole } from './tokens';

/**
 * The control plane's HTTP commands to an SFU node (`<node>/control/...`), each with
 * `Authorization: Bearer <control token>` (signControlToken in tokens.ts):
 *
 * - POST /control/rooms/:roomId/close → 204. Ends the live on this node.
 * - GET  /control/rooms/:roomId → { roomId, peers: { host, guest, viewer, recorder } } (counts); 404 if absent.
 * - GET  /control/rooms/:roomId/peers → ControlPeers; 404 if the room isn't on this node.
 * - POST /control/rooms/:roomId/users/:userId/revoke  body ControlRevokeBody → 204: every peer of
 *   that user in the room goes back to `viewer`, its producers close (viewers everywhere get
 *   producerClosed), the peer gets roleChanged. Idempotent.
 * - POST /control/rooms/:roomId/users/:userId/mute  body ControlMuteBody → 204: pauses (or
 *   resumes) that user's producers; while muted by the host the guest's own resumeProducer is
 *   refused (403). 404 when the user has no peer in the room.
 */
export const controlRevokeBody = z.strictObject({ reason: z.enum(['removed', 'left']).default('removed') });
export const controlMuteBody = z.strictObject({ muted: z.boolean() });

export interface ControlPeer {
  peerId: string;
  /** The media token's subject: a user id, or anon:<random>. */
  userId: string;
  role: MediaRole;
  mutedByHost: boolean;
  producers: { id: string; kind: 'audio' | 'video'; paused: boolean }[];
}

export interface ControlPeers {
  roomId: string;
  peers: ControlPeer[];
}
