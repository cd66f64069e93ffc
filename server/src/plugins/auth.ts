import { ACCESS_COOKIE, type AccessClaims } from '@podlive/shared/accounts';
import { eq, users } from '@podlive/db';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors';
import { AccessTokens } from '../features/auth/access-tokens';
import { EndedSessions } from '../features/auth/ended-sessions';

/** Who is calling, from a valid access token. */
export interface Caller {
  id: string;
  handle: string;
  /** The sign-in session (refresh-token family) the token belongs to. */
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in caller, or null for an anonymous request. */
    caller: Caller | null;
  }
  interface FastifyInstance {
    /** A preHandler for routes that need a signed-in caller (401 UNAUTHENTICATED otherwise). */
    requireCaller: (request: FastifyRequest) => Promise<void>;
    /**
     * A preHandler for what needs a verified email (going live, the stage): 401 UNAUTHENTICATED,
     * or 403 EMAIL_NOT_VERIFIED. Read from the database each time, so verifying counts at once.
     */
    requireVerifiedCaller: (request: FastifyRequest) => Promise<void>;
    /** Sessions ended by logout or password reset: their access tokens are refused. */
    endedSessions: EndedSessions;
    /** Verifies access tokens (API requests, /ws upgrades). */
    accessTokens: AccessTokens;
  }
}

/** The caller of a route guarded by `requireCaller`. */
export function callerOf(request: FastifyRequest): Caller {
  if (request.caller === null) throw new ApiError('UNAUTHENTICATED');
  return request.caller;
}

/** The caller of valid claims, or null when their session was ended (logout, password reset). */
export async function callerOfClaims(ended: EndedSessions, claims: AccessClaims | null): Promise<Caller | null> {
  if (claims === null || (await ended.has(claims.sid))) return null;
  return { id: claims.sub, handle: claims.handle, sessionId: claims.sid };
}

/** Where a stale access cookie reads as anonymous instead of 401: renewing and logging in, and media a page loads by element (img, video), which cannot renew. */
const COOKIE_LENIENT = ['/api/auth/', '/api/media/', '/api/storage/'];

/**
 * Reads `Authorization: Bearer <access token>` on every /api request, else the ACCESS_COOKIE the
 * browser sends with its own calls to /api. Neither: anonymous. A header with a forged, expired or
 * malformed token: 401 UNAUTHENTICATED, also on public routes, so a client with a stale token
 * learns to refresh instead of silently seeing the anonymous view; the same for the cookie (the
 * page renews with POST /api/auth/renew and retries), except on COOKIE_LENIENT paths. A token of
 * an ended session counts as invalid.
 *
 * The cookie is ambient, so it counts only for requests of our own pages: one whose Origin names
 * another site is anonymous (and a state-changing one is refused outright by api-security.ts);
 * SameSite=Lax keeps it off other sites' subrequests to begin with.
 */
async function authPlugin(app: FastifyInstance) {
  const tokens = new AccessTokens(app.config.secrets.jwtAccess);
  const ended = new EndedSessions(app.redis, app.config.redisPrefix);
  app.decorate('endedSessions', ended);
  app.decorate('accessTokens', tokens);
  app.decorateRequest('caller', null);
  app.decorate('requireCaller', async (request: FastifyRequest) => {
    if (request.caller === null) throw new ApiError('UNAUTHENTICATED');
  });
  app.decorate('requireVerifiedCaller', async (request: FastifyRequest) => {
    const caller = callerOf(request);
    const [user] = await request.server.db.select({ emailVerified: users.emailVerified }).from(users).where(eq(users.id, caller.id));
    if (user === undefined) throw new ApiError('UNAUTHENTICATED');
    if (!user.emailVerified) throw new ApiError('EMAIL_NOT_VERIFIED');
  });
  const site = new URL(app.config.publicUrl).origin;
  app.addHook('onRequest', async (request) => {
    if (!request.url.startsWith('/api/')) return;
    const header = request.headers.authorization;
    let token: string | undefined;
    if (header !== undefined) token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    else {
      const origin = request.headers.origin;
      token = request.cookies[ACCESS_COOKIE];
      if (token === undefined || (origin !== undefined && origin !== site)) return;
    }
    const caller = await callerOfClaims(ended, token === undefined ? null : await tokens.verify(token));
    if (caller !== null) request.caller = caller;
    else if (header !== undefined || !COOKIE_LENIENT.some((prefix) => request.url.startsWith(prefix))) {
      throw new ApiError('UNAUTHENTICATED', { message: 'The access token is invalid or expired' });
    }
  });
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['services', 'redis', '@fastify/cookie'] });
