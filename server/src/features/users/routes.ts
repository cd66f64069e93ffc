import multipart from '@fastify/multipart';
import { searchQuery, updateMeBody } from '@podlive/shared/accounts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../../errors';
import { callerOf } from '../../plugins/auth';
import { readUpload } from '../../media/uploads';
import { parseInput } from '../../validation';
import { AVATAR_MAX_BYTES, renderAvatar, replaceAvatar } from './avatar';
import { follow, unfollow } from './follows';
import { loadSelfUser } from './present';
import { publicProfile, updateMe } from './profile';
import { searchUsers } from './search';

const userIdParams = z.strictObject({ id: z.uuid('Not a user id') });

/** /api/users: profiles, the caller's own account, avatar, follows, search. */
export default async function userRoutes(app: FastifyInstance) {
  await app.register(multipart, { limits: { fileSize: AVATAR_MAX_BYTES, files: 1, fields: 0, parts: 2 } });
  const signedIn = { preHandler: app.requireCaller };

  app.get('/search', async (request) => {
    const params = parseInput(searchQuery, request.query);
    return searchUsers(app.db, params, request.caller?.id ?? null);
  });

  app.get('/me', signedIn, async (request) => {
    const self = await loadSelfUser(app.db, callerOf(request).id);
    if (self === undefined) throw new ApiError('UNAUTHENTICATED');
    return self;
  });

  app.put('/me', signedIn, async (request) => updateMe(app.db, callerOf(request).id, parseInput(updateMeBody, request.body)));

  app.put('/me/avatar', signedIn, async (request) => {
    const caller = callerOf(request);
    const bytes = await readUpload(request, 'avatar');
    const webp = await renderAvatar(bytes);
    await replaceAvatar(app.db, app.storage, caller.id, webp, request.log);
    const self = await loadSelfUser(app.db, caller.id);
    if (self === undefined) throw new ApiError('UNAUTHENTICATED');
    return self;
  });

  app.get<{ Params: { handle: string } }>('/:handle', async (request) =>
    publicProfile(app.db, request.params.handle, request.caller?.id ?? null),
  );

  app.post('/:id/follow', signedIn, async (request) => {
    const { id } = parseInput(userIdParams, request.params);
    return follow(app.db, callerOf(request).id, id);
  });

  app.delete('/:id/follow', signedIn, async (request) => {
    const { id } = parseInput(userIdParams, request.params);
    return unfollow(app.db, callerOf(request).id, id);
  });
}
