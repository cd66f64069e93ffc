import { ACCESS_COOKIE } from '@podlive/shared/accounts';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../config';
import { ApiError } from '../errors';
import type { AccessTokens } from '../features/auth/access-tokens';
import type { EndedSessions } from '../features/auth/ended-sessions';
import { callerOfClaims } from '../plugins/auth';

/**
 * Who opens /ws: `Authorization: Bearer <access token>` (a bad one refuses the upgrade with 401,
 * as on /api), else the `podlive_access` cookie the browser sends with the same-origin upgrade.
 * The cookie counts only when the upgrade comes from our own origin (no cross-site WebSocket
 * hijacking), and a stale or forged cookie is anonymous rather than refused, so the page still
 * gets public events. Neither: anonymous. A token of an ended session (logout, reset) is as bad as a forged one.
 */
export async function callerFromUpgrade(request: FastifyRequest, config: Pick<Config, 'publicUrl'>, tokens: AccessTokens, ended: EndedSessions): Promise<void> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const caller = await callerOfClaims(ended, token === undefined ? null : await tokens.verify(token));
    if (caller === null) throw new ApiError('UNAUTHENTICATED', { message: 'The access token is invalid or expired' });
    request.caller = caller;
    return;
  }
  const cookie = request.cookies[ACCESS_COOKIE];
  const origin = request.headers.origin;
  if (cookie === undefined || (origin !== undefined && origin !== new URL(config.publicUrl).origin)) return;
  request.caller = await callerOfClaims(ended, await tokens.verify(cookie));
}
