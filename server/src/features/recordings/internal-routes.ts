import { recordingFinishedBody, SERVER_CONTROL_ID } from '@podlive/shared/recording';
import { verifyControlToken } from '@podlive/shared/tokens';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../../errors';
import { parseInput } from '../../validation';
import type { RecordingsContext } from './context';
import { recordingFinished } from './finished';

const sessionParams = z.strictObject({ sessionId: z.uuid('Not a live id') });

export interface InternalRecordingRoutesOptions {
  recordings: RecordingsContext;
  /** MEDIA_TOKEN_SECRET: the key of control tokens. */
  controlSecret: string;
}

/**
 * Under /internal, for the other processes of PodLive, never browsers: every request carries
 * `Authorization: Bearer <control token for node 'server'>` (shared/src/tokens.ts), else 401
 * before anything else is looked at. A media token is not a control token (another audience), and
 * a control token for a media node or the recorder names another node: both are refused too.
 */
export default async function internalRecordingRoutes(app: FastifyInstance, options: InternalRecordingRoutesOptions) {
  app.addHook('onRequest', async (request) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (token === undefined || !(await verifyControlToken(options.controlSecret, token, SERVER_CONTROL_ID))) {
      throw new ApiError('UNAUTHORIZED', { message: 'A control token for the server is required' });
    }
  });

  // The recorder's finishing job reports (idempotent; see finished.ts).
  app.put('/recordings/:sessionId', async (request) => {
    const { sessionId } = parseInput(sessionParams, request.params);
    return recordingFinished(options.recordings, sessionId, parseInput(recordingFinishedBody, request.body));
  });
}
