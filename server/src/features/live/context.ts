import type { Db } from '@podlive/db';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveEvents } from '../../ws/events';
import type { ViewerCounts } from '../../ws/viewer-counts';
import type { Placement } from './placement';

/** What the live feature works with, passed explicitly (no reaching into the app). */
export interface LiveContext {
  db: Db;
  placement: Placement;
  events: LiveEvents;
  counts: ViewerCounts;
  /** MEDIA_TOKEN_SECRET: media and control tokens. */
  mediaSecret: string;
  log: FastifyBaseLogger;
  /** Runs once a live has ended (the stage ends its invites and guests); failures are logged. */
  onEnded?: (sessionId: string) => Promise<void>;
}
