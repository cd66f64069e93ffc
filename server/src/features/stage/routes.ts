import {
  stageInviteBody, stageLeaveBody, stageMuteBody, stageRejectBody, stageSessionQuery, stageSuggestionsQuery,
} from '@podlive/shared/stage';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../../plugins/auth';
import { parseInput } from '../../validation';
import { acceptInvite, rejectInvite } from './answer';
import type { StageContext } from './context';
import { leaveStage, listGuests, muteGuest, removeFromStage } from './guests';
import { createInvite } from './invite';
import { stageSuggestions } from './suggestions';

const inviteParams = z.strictObject({ id: z.uuid('Not an invite id') });
const sessionParams = z.strictObject({ sessionId: z.uuid('Not a live id') });
const userParams = z.strictObject({ userId: z.uuid('Not a user id') });

export interface StageRoutesOptions {
  stage: StageContext;
}

/** /api/stage: invites (send, accept, reject), the guests, the host's controls (see shared/src/stage.ts). */
export default async function stageRoutes(app: FastifyInstance, { stage }: StageRoutesOptions) {
  const inviteLimit = app.limiter('stageInvite', (request) => request.caller?.id ?? null);

  app.post('/invite', { preHandler: [app.requireCaller, inviteLimit] }, async (request, reply) => {
    const body = parseInput(stageInviteBody, request.body);
    const invite = await createInvite(stage, callerOf(request).id, body.sessionId, body.handle);
    return reply.code(201).send({ invite });
  });

  app.post('/invite/:id/accept', { preHandler: [app.requireCaller, app.requireVerifiedCaller] }, async (request) =>
    acceptInvite(stage, parseInput(inviteParams, request.params).id, callerOf(request).id),
  );

  app.post('/invite/:id/reject', { preHandler: app.requireCaller }, async (request) => {
    const { reason } = parseInput(stageRejectBody, request.body);
    return { invite: await rejectInvite(stage, parseInput(inviteParams, request.params).id, callerOf(request).id, reason) };
  });

  app.get('/:sessionId/guests', async (request) => listGuests(stage, parseInput(sessionParams, request.params).sessionId));

  app.get('/:sessionId/suggestions', { preHandler: app.requireCaller }, async (request) => {
    const { q } = parseInput(stageSuggestionsQuery, request.query);
    return stageSuggestions(stage, callerOf(request).id, parseInput(sessionParams, request.params).sessionId, q);
  });

  app.post('/guest/:userId/mute', { preHandler: app.requireCaller }, async (request) => {
    const { sessionId, muted } = parseInput(stageMuteBody, request.body);
    return { guest: await muteGuest(stage, callerOf(request).id, sessionId, parseInput(userParams, request.params).userId, muted) };
  });

  app.delete('/guest/:userId', { preHandler: app.requireCaller }, async (request, reply) => {
    const { sessionId } = parseInput(stageSessionQuery, request.query);
    await removeFromStage(stage, callerOf(request).id, sessionId, parseInput(userParams, request.params).userId);
    return reply.code(204).send();
  });

  app.post('/leave', { preHandler: app.requireCaller }, async (request, reply) => {
    const { sessionId, reason } = parseInput(stageLeaveBody, request.body);
    await leaveStage(stage, sessionId, callerOf(request).id, reason);
    return reply.code(204).send();
  });
}
