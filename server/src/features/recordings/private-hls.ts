import { recordingKeys } from '@podlive/shared/recording';
import { createHmac } from 'node:crypto';
import { checkSignature, isValidKey, keyToUrlPath, signKey, type SignatureCheck, type Storage } from '@podlive/storage';

/**
 * Private recordings' HLS.
 *
 * A multivariant playlist names its media playlists, and those name their init and media segments,
 * by RELATIVE URIs, so a presigned URL of the master playlist alone authorises nothing below it.
 * A private recording's playlists are therefore served by the control plane,
 * `GET /api/recordings/:id/hls/<path under the recording's root>.m3u8?exp=&sig=`, behind a link
 * signed for that recording (HMAC over the id and the expiry), and rewritten on the way out:
 * - a URI naming another playlist becomes the same route, signed again;
 * - any other URI (init segments, chunks, MP4s) becomes Storage.signedUrl of its object: an S3
 *   presigned URL, or a LocalStorage signed link, so the media itself never flows through here.
 *
 * Chosen over an owner-checked route authenticated by the session cookie: links need no
 * credentials, so every player works (hls.js, Safari's native HLS, a cast device, another origin),
 * the API keeps its one promise ("a private recording's URLs are presigned, with an expiry"), and
 * segments come straight from the bucket. A stranger gets nothing: a playlist needs the link's
 * signature, a segment its presigned URL, and both need a secret.
 */

/** Links the API hands out for a private recording (thumbnail, MP4s, the master playlist). */
export const PRIVATE_LINK_TTL_SEC = 60 * 60;
/**
 * Links written into a playlist, counted from when the player fetched it: hls.js reads a VOD
 * playlist once, then fetches its segments (and other renditions' playlists, on a quality switch)
 * for as long as the episode plays, pauses included.
 */
export const PLAYBACK_LINK_TTL_SEC = 4 * 60 * 60;

/** Where private playlists are served (the route in routes.ts). */
export const privateHlsPath = (recordingId: string, relativePath: string) => `/api/recordings/${recordingId}/hls/${keyToUrlPath(relativePath)}`;

/** Signs and checks the playlist links of private recordings. */
export class PlaylistLinks {
  readonly #secret: string;

  /** `serverSecret`: a secret of this control plane only; a key for these links is derived from it. */
  constructor(serverSecret: string) {
    this.#secret = createHmac('sha256', serverSecret).update('podlive: private recording playlist links').digest('base64url');
  }

  /** The link to the playlist at `relativePath` (under the recording's root), valid `ttlSec`. */
  url(recordingId: string, relativePath: string, ttlSec: number): string {
    const exp = Math.floor(Date.now() / 1000) + ttlSec;
    return `${privateHlsPath(recordingId, relativePath)}?exp=${exp}&sig=${signKey(this.#secret, scope(recordingId), exp)}`;
  }

  check(recordingId: string, exp: string | undefined, sig: string | undefined): SignatureCheck {
    return checkSignature(this.#secret, scope(recordingId), exp, sig);
  }
}

const scope = (recordingId: string) => `recording-hls:${recordingId}`;

/** The storage key a playlist's relative URI names, or null when it names nothing under `root`. */
export function resolveUri(playlistKey: string, uri: string, root: string): string | null {
  // Absolute URIs (a scheme, or a path from the host) are not the recording's objects.
  if (/^[a-z][a-z\d+.-]*:/i.test(uri) || uri.startsWith('/')) return null;
  let path: string;
  try {
    path = new URL(uri, `http://recording.invalid/${playlistKey}`).pathname.slice(1);
    path = path.split('/').map(decodeURIComponent).join('/');
  } catch {
    return null;
  }
  return path.startsWith(`${root}/`) && isValidKey(path) ? path : null;
}

const URI_ATTRIBUTE = /URI="([^"]*)"/g;

/**
 * The playlist (`playlistKey`, of the recording `recordingId` whose objects are under `sessionId`'s
 * root) with every URI replaced by a link the player can fetch without credentials (see above).
 * URIs in tags (`URI="..."`: EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF...) and URI lines
 * alike; a URI naming nothing under the root is left as it is (it resolves to nothing here).
 */
export async function rewritePlaylist(
  text: string,
  at: { recordingId: string; sessionId: string; playlistKey: string },
  links: PlaylistLinks,
  storage: Storage,
): Promise<string> {
  const { root } = recordingKeys(at.sessionId);
  const link = async (uri: string): Promise<string> => {
    const key = resolveUri(at.playlistKey, uri, root);
    if (key === null) return uri;
    if (key.endsWith('.m3u8')) return links.url(at.recordingId, key.slice(root.length + 1), PLAYBACK_LINK_TTL_SEC);
    return storage.signedUrl(key, PLAYBACK_LINK_TTL_SEC);
  };
  const lines = await Promise.all(
    text.split(/\r?\n/).map(async (line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (!trimmed.startsWith('#')) return link(trimmed);
      const uris = [...trimmed.matchAll(URI_ATTRIBUTE)].map((match) => match[1] ?? '');
      if (uris.length === 0) return line;
      const replaced = await Promise.all(uris.map(link));
      let index = 0;
      return trimmed.replace(URI_ATTRIBUTE, () => `URI="${replaced[index++] ?? ''}"`);
    }),
  );
  return lines.join('\n');
}
