import type { FastifyInstance } from 'fastify';
import { verifyControlToken } from '@podlive/shared/tokens';
import { controlMuteBody, controlRevokeBody, type ControlPeers } from '@podlive/shared/control';
import type { Room } from './Room';

export interface ControlOptions {
  nodeId: string;
  secret: string;
  rooms: ReadonlyMap<string, Room>;
}

/**
 * The control plane's commands to this node, each authorized by a control token (never a media
 * token: another audience). POST /control/rooms/:roomId/close ends a live here: every peer gets
 * roomClosed { reason: 'ended' }. Idempotent: closing a room that isn't here answers 204 too.
 */
export async function controlRoutes(app: FastifyInstance, options: ControlOptions): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    if (!token || !(await verifyControlToken(options.secret, token, options.nodeId))) {
      return reply.code(401).send({ error: { code: 'UNAUTHENTICATED', message: 'control token required' } });
    }
  });

  app.post<{ Params: { roomId: string } }>('/rooms/:roomId/close', async (request, reply) => {
    const room = options.rooms.get(request.params.roomId);
    room?.close('ended');
    return reply.code(204).send();
  });

  app.get<{ Params: { roomId: string } }>('/rooms/:roomId/peers', async (request, reply) => {
    const room = options.rooms.get(request.params.roomId);
    if (!room) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such room on this node' } });
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

  /** The host removed a guest (or the guest left): back to viewer, producers closed everywhere. */
  app.post<{ Params: { roomId: string; userId: string } }>('/rooms/:roomId/users/:userId/revoke', async (request, reply) => {
    const body = controlRevokeBody.safeParse(request.body ?? {});
    if (!body.success) return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message: body.error.message } });
    for (const peer of options.rooms.get(request.params.roomId)?.peersOf(request.params.userId) ?? []) peer.demote(body.data.reason);
    return reply.code(204).send();
  });

  /** The host mutes (pauses) or unmutes a guest; while muted the guest cannot resume by itself. */
  app.post<{ Params: { roomId: string; userId: string } }>('/rooms/:roomId/users/:userId/mute', async (request, reply) => {
    const body = controlMuteBody.safeParse(request.body ?? {});
    if (!body.success) return reply.code(400).send({ error: { code: 'VALIDATION_FAILED', message: body.error.message } });
    const peers = options.rooms.get(request.params.roomId)?.peersOf(request.params.userId) ?? [];
    if (peers.length === 0) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'that user is not in this room' } });
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
  app.get<{ Params: { roomId: string } }>('/rooms/:roomId', async (request, reply) => {
    const room = options.rooms.get(request.params.roomId);
    if (!room) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such room on this node' } });
    const roles = { host: 0, guest: 0, viewer: 0, recorder: 0 };
    for (const peer of room.peers.values()) roles[peer.claims.role]++;
    return { roomId: room.id, peers: roles };
  });
}
