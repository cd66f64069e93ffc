import { chatRestrictBody } from '@podlive/shared/chat';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../../plugins/auth';
import { parseInput } from '../../validation';
import type { ChatContext } from './context';
import { chatState } from './history';
import { deleteMessage, pinMessage, unpinMessage } from './moderation';
import { setModerator } from './moderators';
import { restrictUser, unrestrictUser } from './restrictions';

const liveParams = z.strictObject({ id: z.uuid('Not a live id') });
const messageParams = z.strictObject({ id: z.uuid('Not a live id'), messageId: z.uuid('Not a chat message id') });
const userParams = z.strictObject({ id: z.uuid('Not a live id'), userId: z.uuid('Not a user id') });

/**
 * /api/live/:id/chat (history and moderation) and /api/live/:id/moderators; registered under
 * /api/live next to the live routes. Sending is on /ws (chat_send), see send.ts.
 */
export default async function chatRoutes(app: FastifyInstance) {
  const ctx: ChatContext = { db: app.db, events: app.liveEvents };
  const auth = { preHandler: app.requireCaller };

  app.get('/:id/chat', async (request) => chatState(ctx, parseInput(liveParams, request.params).id, request.caller?.id ?? null));

  // Fastify matches the static 'pin' before ':messageId', so this is never read as a message id.
  app.delete('/:id/chat/pin', auth, async (request, reply) => {
    await unpinMessage(ctx, parseInput(liveParams, request.params).id, callerOf(request).id);
    return reply.code(204).send();
  });

  app.post('/:id/chat/:messageId/pin', auth, async (request) => {
    const { id, messageId } = parseInput(messageParams, request.params);
    return { pinned: await pinMessage(ctx, id, callerOf(request).id, messageId) };
  });

  app.delete('/:id/chat/:messageId', auth, async (request, reply) => {
    const { id, messageId } = parseInput(messageParams, request.params);
    await deleteMessage(ctx, id, callerOf(request).id, messageId);
    return reply.code(204).send();
  });

  for (const kind of ['timeout', 'ban'] as const) {
    app.post(`/:id/chat/${kind}s`, auth, async (request) => {
      const { id } = parseInput(liveParams, request.params);
      const { userId } = parseInput(chatRestrictBody, request.body);
      return { userId, restriction: await restrictUser(ctx, id, callerOf(request).id, userId, kind) };
    });
  }

  app.delete('/:id/chat/bans/:userId', auth, async (request) => {
    const { id, userId } = parseInput(userParams, request.params);
    return { userId, restriction: await unrestrictUser(ctx, id, callerOf(request).id, userId) };
  });

  app.put('/:id/moderators/:userId', auth, async (request) => {
    const { id, userId } = parseInput(userParams, request.params);
    await setModerator(ctx, id, callerOf(request).id, userId, true);
    return { userId, moderator: true };
  });

  app.delete('/:id/moderators/:userId', auth, async (request) => {
    const { id, userId } = parseInput(userParams, request.params);
    await setModerator(ctx, id, callerOf(request).id, userId, false);
    return { userId, moderator: false };
  });
}
