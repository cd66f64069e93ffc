import type { Db } from '@podlive/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Bus } from '../../bus';
import type { Config } from '../../config';
import type { Storage } from '@podlive/storage';
import { LiveEvents } from '../../ws/events';
import type { RecordingsContext } from './context';
import { PlaylistLinks } from './private-hls';
import { RecorderControl } from './recorder-control';

export interface RecordingsDeps {
  config: Pick<Config, 'recorderUrl' | 'secrets'>;
  db: Db;
  storage: Storage;
  bus: Bus;
  log: FastifyBaseLogger;
}

/**
 * The recordings feature of one app: its recorder client (RECORDER_URL; disabled without, said
 * once in the log) and the key of private playlist links (derived from the access-token secret,
 * which only the control plane holds). The caller closes `recorder` when the app closes.
 */
export function createRecordings(deps: RecordingsDeps): RecordingsContext {
  return {
    db: deps.db,
    storage: deps.storage,
    events: new LiveEvents(deps.bus),
    recorder: new RecorderControl({ url: deps.config.recorderUrl, key: deps.config.secrets.mediaToken, log: deps.log }),
    links: new PlaylistLinks(deps.config.secrets.jwtAccess),
    log: deps.log,
  };
}
