import type { FastifyInstance } from 'fastify';
import { verifyControlToken } from '@podlive/shared/tokens';
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

  /** Who is in a room, by role (the control plane's view of a live on this node). */
  app.get<{ Params: { roomId: string } }>('/rooms/:roomId', async (request, reply) => {
    const room = options.rooms.get(request.params.roomId);
    if (!room) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such room on this node' } });
    const roles = { host: 0, guest: 0, viewer: 0 };
    for (const peer of room.peers.values()) roles[peer.claims.role]++;
    return { roomId: room.id, peers: roles };
  });
}
