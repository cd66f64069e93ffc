import { z } from 'zod';
import type { MediaRole } from './tokens';

/**
 * The control plane's HTTP commands to an SFU node (`<node>/control/...`), each with
 * `Authorization: Bearer <control token>` (signControlToken in tokens.ts) with the scope named
 * below in brackets, checked by controlAuth (control-auth.ts):
 *
 * - POST /control/rooms/:roomId/close [room:close] → 204. Ends the live on this node.
 * - GET  /control/rooms/:roomId [room:read] → { roomId, peers: { host, guest, viewer, recorder } } (counts); 404 if absent.
 * - GET  /control/rooms/:roomId/peers [room:read] → ControlPeers; 404 if the room isn't on this node.
 * - POST /control/rooms/:roomId/users/:userId/revoke [room:moderate] body ControlRevokeBody → 204: every peer of
 *   that user in the room goes back to `viewer`, its producers close (viewers everywhere get
 *   producerClosed), the peer gets roleChanged. The node also remembers the revocation (10 min):
 *   a guest grant of that user for that room, not yet redeemed and signed before it, is refused.
 *   Idempotent; answered 204 whether or not the room or the user is on the node.
 * - POST /control/rooms/:roomId/users/:userId/mute [room:moderate] body ControlMuteBody → 204: pauses (or
 *   resumes) that user's producers; while muted by the host the guest's own resumeProducer is
 *   refused (403), and a producer the guest creates starts paused and stays so until unmuted.
 *   404 when the user has no peer in the room.
 *
 * And the node's one question back (`POST <SERVER_URL>/internal/stage/grants/check`, no body,
 * `Authorization: Bearer <the guest grant>`: the guest's own media token, which the control plane
 * signed; a node has no key to sign a credential of its own), asked before a guest grant takes
 * effect: is the invite the grant was minted for (its `jti`) still accepted, for that user and
 * live, and the live still on? 204 yes; 409 GRANT_REVOKED no (the guest left or was removed, the
 * live ended); 401 UNAUTHENTICATED when the bearer is not a guest grant the control plane signed.
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
