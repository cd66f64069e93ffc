import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendError } from './errors';
import { verifyControlToken, type ControlScope, type TokenVerifyingKey } from './tokens';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a control token must carry for this route (a route without one refuses every token). */
    controlScope?: ControlScope;
    /** The route parameter naming the live a token bound to one (`sid`) must match. */
    controlSid?: string;
  }
}

export interface ControlAuthOptions {
  /** MEDIA_TOKEN_PUBLIC_KEY: the control plane's public key. */
  publicKey: TokenVerifyingKey;
  /** This process's name in control tokens: an SFU node's id, `recorder`, `server`. */
  node: string;
}


/**
 * An onRequest hook for the routes other PodLive processes call (an SFU node's /control, the
 * recorder's /control, the control plane's /internal): `Authorization: Bearer <control token>`
 * signed by the control plane, for this process (`node`), with the scope the route names in its
 * config (`{ config: { controlScope: 'room:close' } }`) and, when the route names a `controlSid`
 * parameter, for that live only. Else 401 UNAUTHENTICATED before anything else is looked at.
 */
export function controlAuth(options: ControlAuthOptions) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { controlScope, controlSid } = request.routeOptions.config;
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const sid = controlSid === undefined ? undefined : (request.params as Record<string, string | undefined>)[controlSid];
    const ok = token !== undefined && controlScope !== undefined && (controlSid === undefined || sid !== undefined)
      && (await verifyControlToken(options.publicKey, token, { node: options.node, scope: controlScope, ...(sid === undefined ? {} : { sid }) }));
    if (!ok) return sendError(reply, 'UNAUTHENTICATED', `a control token for ${options.node}${controlScope ? ` with scope ${controlScope}` : ''} is required`);
  };
}
