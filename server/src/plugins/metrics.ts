import { liveSessions, queryRows, sql } from '@podlive/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { DatabaseHandle } from '../db';
import { ServerMetrics, timed } from '../metrics';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's metrics (features count into it; main.ts serves its registry on METRICS_PORT). */
    metrics: ServerMetrics;
  }
}

export interface MetricsPluginOptions {
  db?: DatabaseHandle | undefined;
}

/**
 * The control plane's metrics: every response timed by route pattern, method and status, and the
 * scrape-time gauges (/ws connections, viewers, lives by state, database and bus round trips).
 */
async function metricsPlugin(app: FastifyInstance, { db }: MetricsPluginOptions) {
  const metrics = new ServerMetrics({
    wsConnections: () => (app.hasDecorator('websocketServer') ? app.websocketServer.clients.size : 0),
    viewersByLive: () => (app.hasDecorator('viewerCounts') ? app.viewerCounts.local() : new Map()),
    pingBus: () => timed(() => app.bus.ping()),
    ...(db === undefined
      ? {}
      : {
          pingDatabase: () => timed(() => db.ping()),
          // Not ended ones: those grow forever (a scan per scrape); the status index answers these.
          livesByState: async () => {
            const rows = await queryRows<{ status: string; n: number }>(db.db, sql`select ${liveSessions.status} as status, count(*)::int as n from ${liveSessions} where ${liveSessions.status} in ('scheduled', 'live') group by 1`);
            return Object.fromEntries(rows.map((row) => [row.status, row.n]));
          },
        }),
  });
  app.decorate('metrics', metrics);
  app.addHook('onResponse', async (request, reply) => {
    // The route's pattern (bounded); a request no route matched is counted as one label.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.http.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x', dependencies: ['services'] });
