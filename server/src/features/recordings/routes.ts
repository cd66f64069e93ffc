import { recordingKeys, recordingPatchBody, recordingsPageQuery } from '@podlive/shared/recording';
import { handleParam } from '@podlive/shared/text';
import type { FastifyInstance } from 'fastify';
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { ApiError } from '../../errors';
import { callerOf } from '../../plugins/auth';
import { isValidKey } from '@podlive/storage';
import { parseInput } from '../../validation';
import type { RecordingsContext } from './context';
import { deleteRecording, updateRecording } from './manage';
import { findRecordingRow } from './present';
import { rewritePlaylist } from './private-hls';
import { getRecording, userRecordings } from './queries';
import { countView } from './views';

const recordingIdParams = z.strictObject({ id: z.uuid('Not a recording id') });
const handleParams = z.strictObject({ handle: handleParam });
const hlsParams = z.strictObject({ id: z.uuid('Not a recording id'), '*': z.string().regex(/\.m3u8$/, 'Not a playlist') });

/** Playlists are small (a 4 h VOD at 30 s chunks is a few tens of KiB); anything bigger is refused. */
const MAX_PLAYLIST_BYTES = 2 * 1024 * 1024;

export interface RecordingRoutesOptions {
  recordings: RecordingsContext;
}

/**
 * Under /api: a user's recordings, one recording, the owner's edits, private playlists (see
 * shared/src/recording.ts for the shapes, private-hls.ts for the playlists).
 */
export default async function recordingRoutes(app: FastifyInstance, { recordings: ctx }: RecordingRoutesOptions) {
  const editLimit = app.limiter('editRecording', (request) => request.caller?.id ?? null);
  const idOf = (params: unknown) => parseInput(recordingIdParams, params).id;
  const owner = { preHandler: [app.requireCaller, editLimit] };

  app.get('/users/:handle/recordings', async (request) => {
    const { handle } = parseInput(handleParams, request.params);
    return userRecordings(ctx, handle, request.caller?.id ?? null, parseInput(recordingsPageQuery, request.query));
  });

  app.get('/recordings/:id', async (request) => getRecording(ctx, idOf(request.params), request.caller?.id ?? null));

  // The player reports a play; what counts as a view is countView's (and the allowance's) to say.
  const viewAllowance = app.allowance('recordingView', (request) => `${idOf(request.params)}:${request.caller?.id ?? request.ip}`);
  app.post('/recordings/:id/views', async (request) => {
    const id = idOf(request.params);
    return countView(ctx, id, request.caller?.id ?? null, () => viewAllowance(request));
  });

  app.patch('/recordings/:id', owner, async (request) => {
    const id = idOf(request.params);
    return updateRecording(ctx, id, callerOf(request).id, parseInput(recordingPatchBody, request.body));
  });

  app.delete('/recordings/:id', owner, async (request, reply) => {
    await deleteRecording(ctx, idOf(request.params), callerOf(request).id);
    return reply.code(204).send();
  });

  // A private recording's playlist, by a signed link (the signature is checked before anything is looked up).
  app.get<{ Querystring: { exp?: string; sig?: string } }>('/recordings/:id/hls/*', async (request, reply) => {
    const { id, '*': path } = parseInput(hlsParams, request.params);
    const { exp, sig } = request.query;
    const check = ctx.links.check(id, typeof exp === 'string' ? exp : undefined, typeof sig === 'string' ? sig : undefined);
    if (check === 'invalid') throw new ApiError('STORAGE_SIGNATURE_INVALID');
    if (check === 'expired') throw new ApiError('STORAGE_LINK_EXPIRED');
    const row = await findRecordingRow(ctx.db, id);
    if (row === undefined) throw new ApiError('RECORDING_NOT_FOUND');
    const { sessionId } = row.recording;
    const key = `${recordingKeys(sessionId).root}/${path}`;
    const notFound = () => new ApiError('NOT_FOUND', { message: 'No such playlist' });
    if (!isValidKey(key)) throw notFound();
    const object = await ctx.storage.get(key);
    if (object === null) throw notFound();
    if (object.size !== undefined && object.size > MAX_PLAYLIST_BYTES) {
      object.body.destroy();
      throw notFound();
    }
    const playlist = await rewritePlaylist(await text(object.body), { recordingId: id, sessionId, playlistKey: key }, ctx.links, ctx.storage);
    return reply
      .type('application/vnd.apple.mpegurl')
      .header('cache-control', 'private, no-store')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox")
      .send(playlist);
  });
}
