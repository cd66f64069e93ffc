import type { Db } from '@podlive/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Storage } from '@podlive/storage';
import type { LiveEvents } from '../../ws/events';
import type { PlaylistLinks } from './private-hls';
import type { RecorderControl } from './recorder-control';

/** What the recordings feature works with, passed explicitly (no reaching into the app). */
export interface RecordingsContext {
  db: Db;
  storage: Storage;
  /** recording_ready to the host's /ws connections. */
  events: LiveEvents;
  recorder: RecorderControl;
  /** Signed links to private recordings' playlists. */
  links: PlaylistLinks;
  log: FastifyBaseLogger;
}
