import multipart from '@fastify/multipart';
import { createLiveBody, livePageQuery, viewerTokenQuery } from '@podlive/shared/live';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../../plugins/auth';
import { readUpload } from '../../media/uploads';
import { parseInput } from '../../validation';
import type { LiveContext, LiveRecording } from './context';
import { createLive, endLive, hostedRow, startLive } from './lifecycle';
import type { Placement } from './placement';
import { activeLives, getLive, liveStats, scheduledLives, viewerJoin } from './queries';
import { replaceThumbnail, THUMBNAIL_MAX_BYTES } from './thumbnail';

const liveIdParams = z.strictObject({ id: z.uuid('Not a live id') });

export interface LiveRoutesOptions {
  placement: Placement;
  /** A live ended (after its room closed): the stage ends its invites and guests. */
  onEnded?: (sessionId: string) => Promise<void>;
  /** The recording of lives (features/recordings); absent: not recorded. */
  recording?: LiveRecording;
}

/** /api/live: create, thumbnail, start, end, tokens, lists, stats (see shared/src/live.ts). */
export default async function liveRoutes(app: FastifyInstance, options: LiveRoutesOptions) {
  await app.register(multipart, { limits: { fileSize: THUMBNAIL_MAX_BYTES, files: 1, fields: 0, parts: 2 } });
  const ctx: LiveContext = {
    db: app.db,
    placement: options.placement,
    events: app.liveEvents,
    counts: app.viewerCounts,
    mediaKey: app.config.secrets.mediaToken,
    turn: app.config.turn,
    log: app.log,
    ...(options.onEnded === undefined ? {} : { onEnded: options.onEnded }),
    ...(options.recording === undefined ? {} : { recording: options.recording }),
    ...(app.config.liveWebrtcCap === undefined ? {} : { webrtcCap: app.config.liveWebrtcCap }),
    // The social plugin (registered before) tells followers beyond /ws: stored notifications, Web Push.
    ...(app.hasDecorator('notifier') ? { notices: app.notifier } : {}),
  };
  const createLimit = app.limiter('createLive', (request) => request.caller?.id ?? null);
  // Per address: tokens are free to anyone, each one lets its holder open transports on a node.
  const tokenLimit = app.limiter('mediaToken', (request) => request.ip);
  const idOf = (params: unknown) => parseInput(liveIdParams, params).id;

  app.post('/create', { preHandler: [app.requireCaller, app.requireVerifiedCaller, createLimit] }, async (request, reply) => {
    const session = await createLive(ctx, callerOf(request).id, parseInput(createLiveBody, request.body));
    return reply.code(201).send({ session });
  });

  app.get('/active', async (request) => activeLives(ctx, parseInput(livePageQuery, request.query)));
  app.get('/scheduled', async (request) => scheduledLives(ctx, parseInput(livePageQuery, request.query)));

  app.get('/:id', async (request) => getLive(ctx, idOf(request.params)));
  app.get('/:id/stats', async (request) => liveStats(ctx, idOf(request.params)));
  app.get('/:id/token', { preHandler: tokenLimit }, async (request) => {
    const id = idOf(request.params);
    const { exclude, stage } = parseInput(viewerTokenQuery, request.query);
    return viewerJoin(ctx, id, request.caller?.id ?? null, { ...(exclude === undefined ? {} : { exclude }), stage: stage === '1' });
  });

  app.post('/:id/start', { preHandler: [app.requireCaller, app.requireVerifiedCaller] }, async (request) => startLive(ctx, idOf(request.params), callerOf(request).id));
  app.post('/:id/end', { preHandler: app.requireCaller }, async (request) => endLive(ctx, idOf(request.params), callerOf(request).id));

  app.put('/:id/thumbnail', { preHandler: app.requireCaller }, async (request) => {
    const id = idOf(request.params);
    const callerId = callerOf(request).id;
    await hostedRow(ctx, id, callerId);
    await replaceThumbnail(ctx, app.storage, id, await readUpload(request, 'thumbnail'));
    return getLive(ctx, id);
  });
}
