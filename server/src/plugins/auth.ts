import { verifyAccessToken } from '@podlive/shared/accounts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors';

/** Who is calling, from a valid access token. */
export interface Caller {
  id: string;
  handle: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in caller, or null for an anonymous request. */
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** A preHandler for routes that need a signed-in caller (401 UNAUTHENTICATED otherwise). */
    requireCaller: (request: FastifyRequest) => Promise<void>;
  }
}

/** The caller of a route guarded by `requireCaller`. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === null) throw new ApiError('UNAUTHENTICATED');
  return request.caller;
}

/**
 * Reads `Authorization: Bearer <access token>` on every request. No header: anonymous. A header
 * with a forged, expired or malformed token: 401 UNAUTHENTICATED, also on public routes, so a
 * client with a stale token learns to refresh instead of silently seeing the anonymous view.
 */
async function authPlugin(app: FastifyInstance) {
  const secret = app.config.secrets.jwtAccess;
  app.decorateRequest('caller', null);
  app.decorate('requireCaller', async (request: FastifyRequest) => {
    if (request.caller === null) throw new ApiError('UNAUTHENTICATED');
  });
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (header === undefined || !request.url.startsWith('/api/')) return;
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const claims = match?.[1] === undefined ? null : await verifyAccessToken(secret, match[1]);
    if (claims === null) throw new ApiError('UNAUTHENTICATED', { message: 'The access token is invalid or expired' });
    request.caller = { id: claims.sub, handle: claims.handle };
  });
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['services'] });
