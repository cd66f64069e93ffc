import { type Db, queryRows, sql } from '@podlive/db';
import { verifyMediaToken, type TokenVerifyingKey } from '@podlive/shared/tokens';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError } from '../../errors';

/** What the grant says: its live, its user, its invite (jti). */
const guestGrantCheck = z.strictObject({ sessionId: z.uuid(), userId: z.uuid(), grantId: z.uuid() });
type GuestGrantCheck = z.infer<typeof guestGrantCheck>;

export interface InternalStageRoutesOptions {
  db: Db;
  /** The public half of MEDIA_TOKEN_PRIVATE_KEY: the grants are verified with it. */
  publicKey: TokenVerifyingKey;
}

/**
 * Whether a guest grant may still take effect: its invite (the grant's jti) is accepted, for that
 * user and live, the guest has not left, and the live is on. One read by primary key; the removal
 * ends the invite before it tells the nodes, so a grant checked after a removal is refused and
 * one checked just before is revoked by the node right after (see sfu/src/GuestGrants.ts).
 */
async function grantStands(db: Db, check: GuestGrantCheck): Promise<boolean> {
  const rows = await queryRows<{ ok: number }>(
    db,
    sql`select 1 as ok from stage_invites i join live_sessions s on s.id = i.session_id
        where i.id = ${check.grantId} and i.session_id = ${check.sessionId} and i.invitee_id = ${check.userId}
          and i.status = 'accepted' and i.left_at is null and s.status = 'live'`,
  );
  return rows.length > 0;
}

/**
 * Under /internal, for the media nodes (shared/src/control.ts): a node holds no signing key, so
 * its credential is the guest grant it asks about, which this control plane signed; the answer is
 * about that grant only. Anything else as the bearer: 401 UNAUTHENTICATED.
 */
export default async function internalStageRoutes(app: FastifyInstance, options: InternalStageRoutesOptions) {
  app.post('/stage/grants/check', async (request, reply) => {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const claims = token === undefined ? undefined : await verifyMediaToken(options.publicKey, token, null).catch(() => undefined);
    if (claims?.role !== 'guest' || claims.jti === undefined) throw new ApiError('UNAUTHENTICATED', { message: 'a guest grant is required' });
    const check = guestGrantCheck.safeParse({ sessionId: claims.sid, userId: claims.sub, grantId: claims.jti });
    if (!check.success || !(await grantStands(options.db, check.data))) throw new ApiError('GRANT_REVOKED');
    return reply.code(204).send();
  });
}
