import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors';
import { isValidKey, type LocalStorage } from '@podlive/storage';

export interface StorageRouteOptions {
  storage: LocalStorage;
}

interface SignedQuery {
  exp?: string;
  sig?: string;
}

/**
 * `GET /api/storage/<key>?exp=..&sig=..`: serves LocalStorage objects through the links made by
 * LocalStorage.signedUrl (registered only in local mode; with S3 the links point at the bucket).
 * Objects are served sandboxed: uploaded HTML or SVG cannot run script on this origin.
 */
export default async function storageRoutes(app: FastifyInstance, options: StorageRouteOptions) {
  const { storage } = options;
  app.get<{ Params: { '*': string }; Querystring: SignedQuery }>('/storage/*', async (request, reply) => {
    const key = request.params['*'];
    if (!isValidKey(key)) throw new ApiError('STORAGE_KEY_INVALID');
    const { exp, sig } = request.query;
    const check = storage.verify(key, typeof exp === 'string' ? exp : undefined, typeof sig === 'string' ? sig : undefined);
    if (check === 'invalid') throw new ApiError('STORAGE_SIGNATURE_INVALID');
    if (check === 'expired') throw new ApiError('STORAGE_LINK_EXPIRED');
    const object = await storage.get(key);
    if (object === null) throw new ApiError('NOT_FOUND', { message: 'No such object' });
    const maxAge = Math.max(0, Math.min(3600, Number(exp) - Math.floor(Date.now() / 1000)));
    reply
      .type(object.contentType)
      .header('cache-control', `private, max-age=${maxAge}`)
      .header('x-content-type-options', 'nosniff')
      .header('content-security-policy', "default-src 'none'; sandbox");
    if (object.size !== undefined) reply.header('content-length', object.size);
    return reply.send(object.body);
  });
}
