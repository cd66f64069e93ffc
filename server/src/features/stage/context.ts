import type { TokenSigningKey } from '@podlive/shared/tokens';
import type { TurnConfig } from '../../media/turn';
import type { Db } from '@podlive/db';
import type { FastifyBaseLogger } from 'fastify';
import type { ServerMetrics } from '../../metrics';
import type { LiveEvents } from '../../ws/events';
import type { Placement } from '../live/placement';
import type { InviteExpiry } from './expiry';
import type { GuestStore } from './store';

/** What the stage feature works with, passed explicitly. */
export interface StageContext {
  db: Db;
  placement: Placement;
  events: LiveEvents;
  guests: GuestStore;
  expiry: InviteExpiry;
  /** MEDIA_TOKEN_PRIVATE_KEY: guest grants and control tokens. */
  mediaKey: TokenSigningKey;
  /** TURN for the guests' send transports (config.turn). */
  turn: TurnConfig | null;
  maxGuests: number;
  inviteTtlMs: number;
  log: FastifyBaseLogger;
  /** Invites by outcome. */
  metrics: Pick<ServerMetrics, 'invites'>;
}

/** A guest grant is good for this long: enough to send `upgradeToGuest` on the open connection. */
export const GUEST_GRANT_TTL_SEC = 60;
