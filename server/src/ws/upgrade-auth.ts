import { verifyAccessToken } from '@podlive/shared/accounts';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config';
import { ApiError } from '../errors';

/** The web app's httpOnly cookie holding the access JWT (web/src/lib/server/session.ts). */
export const ACCESS_COOKIE = 'podlive_access';

/**
 * Who opens /ws: `Authorization: Bearer <access token>` (a bad one refuses the upgrade with 401,
 * as on /api), else the `podlive_access` cookie the browser sends with the same-origin upgrade.
 * The cookie counts only when the upgrade comes from our own origin (no cross-site WebSocket
 * hijacking), and a stale or forged cookie is anonymous rather than refused, so the page still
 * gets public events. Neither: anonymous.
 */
export async function callerFromUpgrade(request: FastifyRequest, config: Pick<Config, 'publicUrl' | 'secrets'>): Promise<void> {
  const secret = config.secrets.jwtAccess;
  const header = request.headers.authorization;
  if (header !== undefined) {
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const claims = token === undefined ? null : await verifyAccessToken(secret, token);
    if (claims === null) throw new ApiError('UNAUTHENTICATED', { message: 'The access token is invalid or expired' });
    request.caller = { id: claims.sub, handle: claims.handle };
    return;
  }
  const cookie = request.cookies[ACCESS_COOKIE];
  const origin = request.headers.origin;
  if (cookie === undefined || (origin !== undefined && origin !== new URL(config.publicUrl).origin)) return;
  const claims = await verifyAccessToken(secret, cookie);
  if (claims !== null) request.caller = { id: claims.sub, handle: claims.handle };
}
