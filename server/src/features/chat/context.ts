import type { Db } from '@podlive/db';
import type { LiveEvents } from '../../ws/events';

/** What the chat feature works with, passed explicitly (no reaching into the app). */
export interface ChatContext {
  db: Db;
  events: LiveEvents;
}
