import { controlAuth } from '@podlive/shared/control-auth';
import { recordingFinishedBody, SERVER_CONTROL_ID } from '@podlive/shared/recording';
import type { TokenVerifyingKey } from '@podlive/shared/tokens';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../validation';
import type { RecordingsContext } from './context';
import { recordingFinished } from './finished';

const sessionParams = z.strictObject({ sessionId: z.uuid('Not a live id') });

export interface InternalRecordingRoutesOptions {
  recordings: RecordingsContext;
  /** The public half of MEDIA_TOKEN_PRIVATE_KEY: control tokens are verified with it. */
  publicKey: TokenVerifyingKey;
}

/**
 * Under /internal, for the recorder only: each request carries the control token the control
 * plane gave the recorder in the stop command (scope `recording:report`, for node `server`, bound
 * to that live), else 401 UNAUTHENTICATED (see shared/src/control-auth.ts).
 */
export default async function internalRecordingRoutes(app: FastifyInstance, options: InternalRecordingRoutesOptions) {
  app.addHook('onRequest', controlAuth({ publicKey: options.publicKey, node: SERVER_CONTROL_ID }));

  // The recorder's finishing job reports (idempotent; see finished.ts).
  app.put('/recordings/:sessionId', { config: { controlScope: 'recording:report', controlSid: 'sessionId' } }, async (request) => {
    const { sessionId } = parseInput(sessionParams, request.params);
    return recordingFinished(options.recordings, sessionId, parseInput(recordingFinishedBody, request.body));
  });
}
