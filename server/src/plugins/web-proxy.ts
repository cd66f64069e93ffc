import compress from '@fastify/compress';
import proxy from '@fastify/http-proxy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors';
import { widenCsp } from './csp';

export interface WebProxyOptions {
  /** WEB_URL: the SvelteKit process. */
  upstream: string;
  /** Path prefixes this server owns; unknown paths under them are 404s, never proxied. */
  reserved: readonly string[];
  /** Where media objects are served from besides this origin (storage's presigned URLs): added to the pages' CSP. */
  mediaOrigins?: () => Promise<readonly string[]>;
}

const isUnder = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

/**
 * Sends every request no other route matched to the web app, so one origin serves the pages,
 * /api and /ws. Registered encapsulated: the proxy's raw-body content-type parsers stay in here
 * and do not replace the JSON parser of /api routes. The web app learns the public host and
 * scheme from X-Forwarded-Host / X-Forwarded-Proto (or its own ORIGIN setting). The pages' CSP
 * gets the storage's origin (see csp.ts).
 *
 * The pages go out compressed (@fastify/compress: brotli, else gzip, for text types): SvelteKit's
 * node adapter renders HTML uncompressed, while its static files (JS, CSS) come precompressed
 * from the build and pass through as they are (a response with a Content-Encoding is left alone).
 * Behind Caddy in production, its `encode` leaves these encoded responses alone too.
 */
export default async function webProxy(app: FastifyInstance, options: WebProxyOptions) {
  const mediaOrigins = (await options.mediaOrigins?.()) ?? [];
  await app.register(compress, { encodings: ['br', 'gzip'] });
  await app.register(proxy, {
    upstream: options.upstream,
    websocket: false,
    async preHandler(request: FastifyRequest) {
      const path = request.url.split('?', 1)[0] ?? '/';
      if (options.reserved.some((prefix) => isUnder(path, prefix))) {
        throw new ApiError('NOT_FOUND', { message: `No route for ${request.method} ${path}` });
      }
    },
    replyOptions: {
      // A web app that is down or slow is the gateway's problem to report: 502, or 504 on timeouts.
      onError: (reply, { error }) => {
        const timedOut = (error as { statusCode?: number }).statusCode === 504;
        reply.send(new ApiError(timedOut ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY', { message: 'The web app is not reachable', cause: error }));
      },
      rewriteHeaders: (headers) => {
        const policy = headers['content-security-policy'];
        return typeof policy === 'string' ? { ...headers, 'content-security-policy': widenCsp(policy, mediaOrigins) } : headers;
      },
      rewriteRequestHeaders: (request, headers) => {
        const forwardedFor = headers['x-forwarded-for'];
        return {
          ...headers,
          'x-forwarded-for': forwardedFor ? `${String(forwardedFor)}, ${request.ip}` : request.ip,
          'x-forwarded-host': request.host,
          'x-forwarded-proto': request.protocol,
        };
      },
    },
  });
}
