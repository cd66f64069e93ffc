import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../errors';
import { isValidKey } from '../../storage';

/** Avatar keys are `avatars/<user id>/<random>.webp`: new content always gets a new key. */
const AVATAR_KEY = /^avatars\/[0-9a-f-]{36}\/[0-9a-f]{24}\.webp$/;

/**
 * `GET /api/media/avatars/...`: public avatars, whichever storage holds them. Keys are immutable,
 * so responses are cacheable for a year; served with nosniff and a sandboxing CSP.
 */
export default async function mediaRoutes(app: FastifyInstance) {
  app.get<{ Params: { '*': string } }>('/avatars/*', async (request, reply) => {
    const key = `avatars/${request.params['*']}`;
    if (!isValidKey(key) || !AVATAR_KEY.test(key)) throw new ApiError('NOT_FOUND', { message: 'No such avatar' });
    const object = await app.storage.get(key);
    if (object === null) throw new ApiError('NOT_FOUND', { message: 'No such avatar' });
    reply
      .type('image/webp')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox");
    if (object.size !== undefined) reply.header('content-length', object.size);
    return reply.send(object.body);
  });
}
