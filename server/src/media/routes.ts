import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';
import { isValidKey, keyToUrlPath } from '../storage';

/** Public route serving stored pictures (avatars, thumbnails). */
export const MEDIA_ROUTE = '/api/media';

/** The public URL of a picture stored under `key` (null stays null). */
export const mediaUrl = (key: string | null) => (key === null ? null : `${MEDIA_ROUTE}/${keyToUrlPath(key)}`);

/** Public keys are `<kind>/<owner uuid>/<random>.webp`: new content always gets a new key. */
const PUBLIC_KINDS = { avatars: 'avatar', thumbnails: 'thumbnail' } as const;
const keyPattern = (prefix: string) => new RegExp(`^${prefix}/[0-9a-f-]{36}/[0-9a-f]{24}\\.webp$`);

/**
 * `GET /api/media/avatars/...` and `/api/media/thumbnails/...`: public pictures, whichever storage
 * holds them. Keys are immutable, so responses are cacheable for a year; served with nosniff and a
 * sandboxing CSP.
 */
export default async function mediaRoutes(app: FastifyInstance) {
  for (const [prefix, noun] of Object.entries(PUBLIC_KINDS)) {
    const pattern = keyPattern(prefix);
    app.get<{ Params: { '*': string } }>(`/${prefix}/*`, async (request, reply) => {
      const key = `${prefix}/${request.params['*']}`;
      if (!isValidKey(key) || !pattern.test(key)) throw new ApiError('NOT_FOUND', { message: `No such ${noun}` });
      const object = await app.storage.get(key);
      if (object === null) throw new ApiError('NOT_FOUND', { message: `No such ${noun}` });
      reply
        .type('image/webp')
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "default-src 'none'; sandbox");
      if (object.size !== undefined) reply.header('content-length', object.size);
      return reply.send(object.body);
    });
  }
}
