import { notificationsQuery, notificationsReadBody, pushSubscriptionBody, pushUnsubscribeBody, reportBody, type VapidKey } from '@podlive/shared/social';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../../plugins/auth';
import { parseInput } from '../../validation';
import { block, listBlocks, unblock } from './blocks';
import { discoverPage, type DiscoverDeps } from './discover';
import { listNotifications, markRead } from './notifications';
import { removeSubscription, saveSubscription } from './push-subscriptions';
import { adminReportsQuery, fileReport, listReports } from './reports';
import { suggestQuery, suggestions } from './suggest';
import type { WebPush } from './web-push';

const userIdParams = z.strictObject({ id: z.uuid('Not a user id') });

export interface SocialRoutesOptions {
  push: WebPush;
  discover: DiscoverDeps;
}

/** /api/notifications, /api/push, blocks under /api/users, /api/reports, /api/admin/reports, /api/discover, /api/search/suggest. */
export default async function socialRoutes(app: FastifyInstance, options: SocialRoutesOptions) {
  const signedIn = { preHandler: app.requireCaller };
  const me = (request: Parameters<typeof callerOf>[0]) => callerOf(request).id;

  app.get('/notifications', signedIn, async (request) => listNotifications(app.db, me(request), parseInput(notificationsQuery, request.query)));
  app.post('/notifications/read', signedIn, async (request) => markRead(app.db, me(request), parseInput(notificationsReadBody, request.body)));

  app.get('/push/vapid-key', async (): Promise<VapidKey> => ({ publicKey: options.push.publicKey }));
  app.post('/push/subscriptions', signedIn, async (request, reply) => {
    await saveSubscription(app.db, me(request), parseInput(pushSubscriptionBody, request.body), app.config.push.extraServiceOrigins);
    return reply.code(201).send({ subscribed: true });
  });
  app.delete('/push/subscriptions', signedIn, async (request) => {
    await removeSubscription(app.db, me(request), parseInput(pushUnsubscribeBody, request.body).endpoint);
    return { subscribed: false };
  });

  const blockDeps = { db: app.db, events: app.liveEvents, log: app.log };
  app.get('/users/me/blocks', signedIn, async (request) => listBlocks(app.db, me(request)));
  app.post('/users/:id/block', signedIn, async (request) => block(blockDeps, me(request), parseInput(userIdParams, request.params).id));
  app.delete('/users/:id/block', signedIn, async (request) => unblock(blockDeps, me(request), parseInput(userIdParams, request.params).id));

  const reportLimit = app.limiter('report', (request) => request.caller?.id ?? null);
  app.post('/reports', { preHandler: [app.requireCaller, reportLimit] }, async (request, reply) => {
    const { report, created } = await fileReport(app.db, me(request), parseInput(reportBody, request.body));
    return reply.code(created ? 201 : 200).send(report);
  });
  app.get('/admin/reports', signedIn, async (request) => listReports(app.db, me(request), parseInput(adminReportsQuery, request.query)));

  app.get('/discover', async (request) => discoverPage(options.discover, request.caller?.id ?? null));
  app.get('/search/suggest', async (request) => suggestions(app.db, parseInput(suggestQuery, request.query).q, request.caller?.id ?? null));
}
