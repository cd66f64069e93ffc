import type { FastifyInstance } from 'fastify';
import { LRUCache } from 'lru-cache';
import { LIVE_HLS_CACHE_CONTROL } from '@podlive/shared/recording';
import { ApiError } from '../errors';
import { isValidKey, keyToUrlPath } from '@podlive/storage';

/** Public route serving stored media: pictures (avatars, thumbnails) and public recordings. */
export const MEDIA_ROUTE = '/api/media';

/** The public URL of the object stored under `key` (null stays null). */
export function mediaUrl(key: string): string;
export function mediaUrl(key: string | null): string | null;
export function mediaUrl(key: string | null): string | null {
  return key === null ? null : `${MEDIA_ROUTE}/${keyToUrlPath(key)}`;
}

/** Public keys are `<kind>/<owner uuid>/<random>.webp`: new content always gets a new key. */
const PUBLIC_KINDS = { avatars: 'avatar', thumbnails: 'thumbnail' } as const;
const keyPattern = (prefix: string) => new RegExp(`^${prefix}/[0-9a-f-]{36}/[0-9a-f]{24}\\.webp$`);

/** `recordings/<session uuid>/...`: the recording objects of one live (shared/src/recording.ts). */
const RECORDING_KEY = /^recordings\/([0-9a-f-]{36})\/.+\.(m3u8|m4s|mp4|jpg)$/;
/** `recordings/<session>/ll/...`: the live low-latency HLS (shared/src/recording.ts, llMaster...). */
const LIVE_HLS_KEY = /^recordings\/[0-9a-f-]{36}\/ll\//;
/** The type is the extension's, never the stored one; the manifest and anything else are not served. */
const RECORDING_TYPES: Record<string, string> = {
  m3u8: 'application/vnd.apple.mpegurl',
  m4s: 'video/iso.segment',
  mp4: 'video/mp4',
  jpg: 'image/jpeg',
};

export interface MediaRoutesOptions {
  /**
   * Whether a session's recording objects are public now (the live HLS during the live, then a
   * public recording's). Absent (no database): recordings are not served.
   */
  recordingIsPublic?: (sessionId: string) => Promise<boolean>;
}

const SANDBOX = { 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; sandbox" };

/**
 * `GET /api/media/avatars/...` and `/api/media/thumbnails/...`: public pictures, whichever storage
 * holds them. Keys are immutable, so responses are cacheable for a year.
 *
 * `GET /api/media/recordings/<session>/...`: the objects of a public recording, and the live HLS
 * of a live: stable URLs under which the playlists' relative URIs resolve. Playlists may change
 * (a live one every chunk) and are not cached; other objects for 5 minutes only, since a
 * recording made private must stop being served. A private recording's objects are a 404 here
 * (they are reached through signed links, see features/recordings/private-hls.ts).
 *
 * The live low-latency HLS (`recordings/<session>/ll/`) is what a CDN or any HTTP cache in front of
 * this route carries for a very large audience: its segments and init segments are never rewritten
 * under the same name (immutable, cached for a year), its playlists change every second (cached
 * for one: a cache asks this origin once per second per playlist, whatever its audience). Whether
 * the session is public is remembered for a second for those requests, so the database sees one
 * query per session per second rather than one per player request.
 *
 * Everything is served with nosniff and a sandboxing CSP.
 */
export default async function mediaRoutes(app: FastifyInstance, options: MediaRoutesOptions = {}) {
  for (const [prefix, noun] of Object.entries(PUBLIC_KINDS)) {
    const pattern = keyPattern(prefix);
    app.get<{ Params: { '*': string } }>(`/${prefix}/*`, async (request, reply) => {
      const key = `${prefix}/${request.params['*']}`;
      if (!isValidKey(key) || !pattern.test(key)) throw new ApiError('NOT_FOUND', { message: `No such ${noun}` });
      const object = await app.storage.get(key);
      if (object === null) throw new ApiError('NOT_FOUND', { message: `No such ${noun}` });
      reply.type('image/webp').header('cache-control', 'public, max-age=31536000, immutable').headers(SANDBOX);
      if (object.size !== undefined) reply.header('content-length', object.size);
      return reply.send(object.body);
    });
  }

  const { recordingIsPublic } = options;
  const publicNow = new LRUCache<string, boolean>({ max: 10_000, ttl: 1000 });
  const isPublic = async (sessionId: string, live: boolean) => {
    if (recordingIsPublic === undefined) return false;
    if (!live) return recordingIsPublic(sessionId);
    const known = publicNow.get(sessionId);
    if (known !== undefined) return known;
    const value = await recordingIsPublic(sessionId);
    publicNow.set(sessionId, value);
    return value;
  };
  app.get<{ Params: { '*': string } }>('/recordings/*', async (request, reply) => {
    const key = `recordings/${request.params['*']}`;
    const match = RECORDING_KEY.exec(key);
    const sessionId = match?.[1];
    const type = RECORDING_TYPES[match?.[2] ?? ''];
    const notFound = () => new ApiError('NOT_FOUND', { message: 'No such recording file' });
    if (sessionId === undefined || type === undefined || !isValidKey(key) || recordingIsPublic === undefined) throw notFound();
    const live = LIVE_HLS_KEY.test(key);
    if (!(await isPublic(sessionId, live))) throw notFound();
    const object = await app.storage.get(key);
    if (object === null) throw notFound();
    const playlist = type === RECORDING_TYPES.m3u8;
    const cacheControl = live
      ? (playlist ? LIVE_HLS_CACHE_CONTROL.playlist : LIVE_HLS_CACHE_CONTROL.immutable)
      : (playlist ? 'no-cache' : 'public, max-age=300');
    reply.type(type).header('cache-control', cacheControl).headers(SANDBOX);
    if (object.size !== undefined) reply.header('content-length', object.size);
    return reply.send(object.body);
  });
}
