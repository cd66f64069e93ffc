import helmet from '@fastify/helmet';
import { CROSS_SITE_CODE, CROSS_SITE_MESSAGE, isCrossSite, SAFE_METHODS } from '@podlive/shared/cross-site';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ApiError } from '../errors';

/**
 * The HTTP hardening of /api, registered inside its scope (so it leaves the proxied pages alone:
 * the web app sets their headers and CSP itself):
 * - headers from @fastify/helmet: nosniff, Referrer-Policy, no framing (X-Frame-Options DENY and
 *   CSP `frame-ancestors 'none'`), a CSP that lets an API response load nothing, and HSTS when the
 *   site is https;
 * - a state-changing request sent by a page of another site is refused (403 CROSS_SITE_REQUEST),
 *   see shared/src/cross-site.ts: refresh and logout read a cookie the browser would send along;
 * - bodies are JSON or multipart (avatar, thumbnail): Fastify's text/plain parser, the body a
 *   foreign page can send without a CORS preflight, is removed (415).
 */
async function apiSecurity(app: FastifyInstance) {
  const site = new URL(app.config.publicUrl).origin;
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    // Media and thumbnails under /api are loaded by the pages of this origin only.
    crossOriginResourcePolicy: { policy: 'same-origin' },
    // A site served over https (PUBLIC_URL, behind the TLS proxy) keeps browsers to https for a
    // year; development over http sends none.
    strictTransportSecurity: site.startsWith('https:') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  app.addHook('onRequest', async (request) => {
    if (SAFE_METHODS.has(request.method)) return;
    if (isCrossSite((name) => request.headers[name] as string | undefined, site)) {
      throw new ApiError(CROSS_SITE_CODE, { message: CROSS_SITE_MESSAGE });
    }
  });
  app.removeContentTypeParser('text/plain');
}

export default fp(apiSecurity, { name: 'api-security', fastify: '5.x', dependencies: ['services'] });
