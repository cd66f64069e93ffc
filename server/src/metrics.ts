import { LATENCY_BUCKETS, createMetricsRegistry } from '@podlive/shared/metrics';
import type { WsEvent } from '@podlive/shared/ws';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How many lives `podlive_live_viewers` names (this replica's most watched): bounded cardinality. */
export const TOP_LIVES = 10;

/** What the server's collectors read at scrape time (each may be missing in a build() without it). */
export interface ServerMetricSources {
  /** Open /ws connections on this replica. */
  wsConnections(): number;
  /** This replica's watching viewers per live. */
  viewersByLive(): ReadonlyMap<string, number>;
  /** Lives scheduled and live, from the database (every replica reports the same: dashboards take max()). */
  livesByState?(): Promise<Record<string, number>>;
  /** Round trips, in seconds. */
  pingDatabase?(): Promise<number>;
  pingBus?(): Promise<number>;
}

/**
 * The control plane's metrics, one registry per app (tests build many apps in one process).
 * Labels are bounded: routes are Fastify's patterns (`/api/live/:id`), never URLs; statuses,
 * methods, invite outcomes, chat refusal codes and rate-limit names are fixed sets; the only live
 * label is on `podlive_live_viewers`, for this replica's TOP_LIVES most watched lives.
 */
export class ServerMetrics {
  readonly registry: Registry = createMetricsRegistry();
  readonly http = new Histogram({
    name: 'podlive_http_request_duration_seconds',
    help: 'HTTP requests by route pattern, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly invites = new Counter({
    name: 'podlive_stage_invites_total',
    help: 'Stage invites by outcome: sent, accepted, rejected, expired',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly inviteDelivery = new Histogram({
    name: 'podlive_stage_invite_delivery_seconds',
    help: 'From an invite being stored to its stage_invite event written to the invitee’s /ws connection',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly chatMessages = new Counter({ name: 'podlive_chat_messages_total', help: 'Chat messages accepted', registers: [this.registry] });
  readonly chatRefusals = new Counter({
    name: 'podlive_chat_refusals_total',
    help: 'Chat messages refused, by refusal code',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'podlive_rate_limited_total',
    help: 'Requests refused by a rate limit (429), by limit',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  /** A chat message was stored (or a resend acknowledged), or refused with `code`. */
  chatSent(code: string | undefined): void {
    if (code === undefined) this.chatMessages.inc();
    else this.chatRefusals.inc({ reason: code });
  }

  /** An event was written to a /ws connection: a stage invite's delivery is timed from its creation. */
  delivered(event: WsEvent): void {
    if (event.type !== 'stage_invite') return;
    const age = (Date.now() - Date.parse(event.invite.createdAt)) / 1000;
    // createdAt is the database's clock: a negative age is clock skew, not a delivery.
    if (age >= 0) this.inviteDelivery.observe(age);
  }

  /** Wires the scrape-time gauges to what they read. */
  constructor(sources: ServerMetricSources) {
    const registers = [this.registry];
    new Gauge({ name: 'podlive_ws_connections', help: 'Open /ws connections on this replica', registers, collect() {
      this.set(sources.wsConnections());
    } });
    new Gauge({ name: 'podlive_viewers', help: 'Viewers watching lives through this replica’s /ws', registers, collect() {
      let total = 0;
      for (const n of sources.viewersByLive().values()) total += n;
      this.set(total);
    } });
    new Gauge({ name: 'podlive_live_viewers', help: `Viewers of this replica’s ${TOP_LIVES} most watched lives`, labelNames: ['session'] as const, registers, collect() {
      this.reset();
      const top = [...sources.viewersByLive()].sort((a, b) => b[1] - a[1]).slice(0, TOP_LIVES);
      for (const [session, n] of top) this.set({ session }, n);
    } });
    const { livesByState, pingDatabase, pingBus } = sources;
    if (livesByState !== undefined) {
      new Gauge({ name: 'podlive_lives', help: 'Lives scheduled and on air, from the database', labelNames: ['state'] as const, registers, async collect() {
        const counts = await livesByState();
        for (const state of ['scheduled', 'live']) this.set({ state }, counts[state] ?? 0);
      } });
    }
    if (pingDatabase !== undefined) {
      new Gauge({ name: 'podlive_db_ping_seconds', help: 'A `select 1` through the pool at the scrape: the wait for a free connection and the round trip (-1: it failed)', registers, async collect() {
        this.set(await pingDatabase().catch(() => -1));
      } });
    }
    if (pingBus !== undefined) {
      new Gauge({ name: 'podlive_redis_ping_seconds', help: 'A PING round trip to the bus (Redis; in-process without REDIS_URL) at the scrape (-1: it failed)', registers, async collect() {
        this.set(await pingBus().catch(() => -1));
      } });
    }
  }
}

/** Seconds `run` took. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / 1e9;
}
