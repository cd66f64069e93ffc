import Fastify from 'fastify';
import { verifyMediaToken } from '@podlive/shared/tokens';
import { KEYS } from './helpers';

/** What a node asked about: the grant it sent as its credential. */
export interface GuestGrantCheck {
  sessionId: string;
  userId: string;
  grantId: string;
  nodeId: string;
}

/**
 * A stand-in for the control plane's one route a node calls (POST /internal/stage/grants/check),
 * for tests of the node alone: 204 for the grant ids in `accepted`, 409 otherwise; 401 without a
 * guest grant signed by the control plane as its bearer credential. (The real route is tested against a real node in server/test/stage.)
 */
export interface ControlPlane {
  url: string;
  accepted: Set<string>;
  checks: GuestGrantCheck[];
  /** While true every check is answered 503 (the control plane failing). */
  failing: boolean;
  /** Holds every answer until the returned function is called (to order a removal against a check). */
  hold(): () => void;
  close(): Promise<void>;
}

export async function startControlPlane(): Promise<ControlPlane> {
  const app = Fastify();
  const accepted = new Set<string>();
  const checks: GuestGrantCheck[] = [];
  let held: Promise<void> | undefined;
  app.post('/internal/stage/grants/check', async (request, reply) => {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const claims = token ? await verifyMediaToken(KEYS.publicKey, token, null).catch(() => undefined) : undefined;
    if (claims?.role !== 'guest' || !claims.jti) return reply.code(401).send();
    const check: GuestGrantCheck = { sessionId: claims.sid, userId: claims.sub, grantId: claims.jti, nodeId: claims.node };
    checks.push(check);
    if (plane.failing) return reply.code(503).send();
    await held;
    return reply.code(accepted.has(check.grantId) ? 204 : 409).send();
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const plane: ControlPlane = {
    url,
    accepted,
    checks,
    failing: false,
    hold() {
      let release!: () => void;
      held = new Promise((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    close: () => app.close(),
  };
  return plane;
}
