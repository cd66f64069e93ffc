import type { FastifyInstance } from 'fastify';
import { sendError } from '@podlive/shared/errors';
import { controlAuth } from '@podlive/shared/control-auth';
import type { TokenVerifyingKey } from '@podlive/shared/tokens';
import { controlMuteBody, controlRevokeBody, type ControlPeers } from '@podlive/shared/control';
import type { GuestGrants } from './GuestGrants';
import type { Room } from './Room';

export interface ControlOptions {
  nodeId: string;
  /** The control plane's public key: commands carry a control token it signed. */
  publicKey: TokenVerifyingKey;
  rooms: ReadonlyMap<string, Room>;
  /** Ends a live on this node (and, in a fleet, for every node): the room closes and isn't made again. */
  endSession: (roomId: string) => Promise<void>;
  /** The node's guest grants: a revocation is remembered there for grants not redeemed yet. */
  grants: GuestGrants;
}

/**
 * The control plane's commands to this node, each authorized by a control token (never a media
 * token: another audience). POST /control/rooms/:roomId/close ends a live here: every peer gets
 * roomClosed { reason: 'ended' }, and media tokens minted before the end no longer make the room
 * again. Idempotent: closing a room that isn't here answers 204 too (and still ends the live).
 */
export async function controlRoutes(app: FastifyInstance, options: ControlOptions): Promise<void> {
  app.addHook('onRequest', controlAuth({ publicKey: options.publicKey, node: options.nodeId }));

  app.post<{ Params: { roomId: string } }>('/rooms/:roomId/close', { config: { controlScope: 'room:close' } }, async (request, reply) => {
    await options.endSession(request.params.roomId);
    return reply.code(204).send();
  });

  app.get<{ Params: { roomId: string } }>('/rooms/:roomId/peers', { config: { controlScope: 'room:read' } }, async (request, reply) => {
    const room = options.rooms.get(request.params.roomId);
    if (!room) return sendError(reply, 'NOT_FOUND', 'no such room on this node');
    const body: ControlPeers = {
      roomId: room.id,
      peers: [...room.peers.values()].map((peer) => ({
        peerId: peer.id,
        userId: peer.claims.sub,
        role: peer.claims.role,
        mutedByHost: peer.mutedByHost,
        producers: [...peer.producers.values()].map((p) => ({ id: p.id, kind: p.kind, paused: p.paused })),
      })),
    };
    return body;
  });

  /**
   * The host removed a guest (or the guest left), whatever they were doing: back to viewer,
   * producers closed everywhere, and their grants not redeemed yet refused from now on.
   */
  app.post<{ Params: { roomId: string; userId: string } }>('/rooms/:roomId/users/:userId/revoke', { config: { controlScope: 'room:moderate' } }, async (request, reply) => {
    const body = controlRevokeBody.safeParse(request.body ?? {});
    if (!body.success) return sendError(reply, 'VALIDATION_FAILED', body.error.message);
    const { roomId, userId } = request.params;
    options.grants.revoke(roomId, userId);
    for (const peer of options.rooms.get(roomId)?.peersOf(userId) ?? []) peer.demote(body.data.reason);
    return reply.code(204).send();
  });

  /** The host mutes (pauses) or unmutes a guest; while muted the guest cannot resume by itself. */
  app.post<{ Params: { roomId: string; userId: string } }>('/rooms/:roomId/users/:userId/mute', { config: { controlScope: 'room:moderate' } }, async (request, reply) => {
    const body = controlMuteBody.safeParse(request.body ?? {});
    if (!body.success) return sendError(reply, 'VALIDATION_FAILED', body.error.message);
    const peers = options.rooms.get(request.params.roomId)?.peersOf(request.params.userId) ?? [];
    if (peers.length === 0) return sendError(reply, 'NOT_FOUND', 'that user is not in this room');
    const { muted } = body.data;
    await Promise.all(
      peers.map(async (peer) => {
        peer.mutedByHost = muted;
        await Promise.all([...peer.producers.values()].map((p) => (muted ? p.pause() : p.resume())));
        peer.notify('mutedByHost', { muted });
      }),
    );
    return reply.code(204).send();
  });

  /** Who is in a room, by role (the control plane's view of a live on this node). */
  app.get<{ Params: { roomId: string } }>('/rooms/:roomId', { config: { controlScope: 'room:read' } }, async (request, reply) => {
    const room = options.rooms.get(request.params.roomId);
    if (!room) return sendError(reply, 'NOT_FOUND', 'no such room on this node');
    const roles = { host: 0, guest: 0, viewer: 0, recorder: 0 };
    for (const peer of room.peers.values()) roles[peer.claims.role]++;
    return { roomId: room.id, peers: roles };
  });
}
