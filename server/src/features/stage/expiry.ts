import { type Db, queryRows, sql, type SQL } from '@podlive/db';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveEvents } from '../../ws/events';

/** How often every replica sweeps for pending invites past their deadline. */
export const SWEEP_INTERVAL_MS = 250;

interface ExpiredRow extends Record<string, unknown> {
  id: string;
  session_id: string;
  host_id: string;
  invitee_id: string;
}

export interface InviteExpiryOptions {
  db: Db;
  events: LiveEvents;
  log: FastifyBaseLogger;
  sweepIntervalMs?: number;
  /** `n` invites expired (metrics). */
  onExpired?: (n: number) => void;
}

/**
 * Unanswered invites → expired, with stage_invite_expired to host and invitee. Postgres decides:
 * `UPDATE ... WHERE status = 'pending' AND deadline <= now() RETURNING` is atomic, so of all the
 * replicas sweeping (and the precise per-invite timers of the replica that created it) exactly one
 * expires each invite and publishes its events. A restart loses nothing: the first sweep catches up.
 */
export class InviteExpiry {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #sweeper: NodeJS.Timeout | undefined;
  #sweeping = false;
  #stopped = false;
  /** A failing sweep is logged once until one succeeds again (not four times a second). */
  #failing = false;

  constructor(private readonly options: InviteExpiryOptions) {}

  start(): void {
    if (this.#sweeper !== undefined || this.#stopped) return;
    this.#sweeper = setInterval(() => void this.sweep(), this.options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
    void this.sweep();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#sweeper);
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  /** A precise timer for an invite made here (the sweep is the safety net). */
  schedule(inviteId: string, deadline: Date): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(inviteId);
      void this.expire(sql`id = ${inviteId}`);
    }, Math.max(0, deadline.getTime() - Date.now()) + 5);
    timer.unref();
    this.#timers.set(inviteId, timer);
  }

  /** The invite was answered or ended: its timer is no longer needed. */
  cancel(inviteId: string): void {
    clearTimeout(this.#timers.get(inviteId));
    this.#timers.delete(inviteId);
  }

  async sweep(): Promise<void> {
    if (this.#sweeping || this.#stopped) return;
    this.#sweeping = true;
    try {
      await this.expire(sql`true`);
    } finally {
      this.#sweeping = false;
    }
  }

  /** Expires the due pending invites matching `where`; returns how many. Never throws. */
  async expire(where: SQL): Promise<number> {
    let rows: ExpiredRow[];
    try {
      rows = await queryRows<ExpiredRow>(
        this.options.db,
        sql`update stage_invites set status = 'expired', answered_at = now()
            where status = 'pending' and deadline <= now() and ${where}
            returning id, session_id, host_id, invitee_id`,
      );
    } catch (err) {
      if (!this.#stopped && !this.#failing) this.options.log.warn({ err }, 'expiring stage invites failed');
      this.#failing = true;
      return 0;
    }
    this.#failing = false;
    if (rows.length > 0) this.options.onExpired?.(rows.length);
    await Promise.all(rows.map((row) => this.#announce(row)));
    return rows.length;
  }

  async #announce(row: ExpiredRow): Promise<void> {
    this.cancel(row.id);
    const event = { type: 'stage_invite_expired', inviteId: row.id, sessionId: row.session_id, userId: row.invitee_id } as const;
    await this.options.events.toUsers([row.host_id, row.invitee_id], event).catch((err: unknown) => {
      this.options.log.error({ err, inviteId: row.id }, 'publishing stage_invite_expired failed');
    });
  }
}
