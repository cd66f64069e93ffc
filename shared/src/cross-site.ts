/**
 * Cross-site request refusal, the same rule for the web app's endpoints (hooks.server.ts) and the
 * control plane's /api: a state-changing request (anything but GET, HEAD, OPTIONS) that a browser
 * sends from another site is refused, whatever it carries, so a foreign page can neither post with
 * the site's cookies nor reach cookie-reading routes (refresh, logout).
 *
 * Browsers name where a request comes from in `Origin` (every non-GET fetch and form post); older
 * ones or privacy settings may leave it out, then `Sec-Fetch-Site`, then `Referer` tell. A request
 * with none of them is not from a browser page (a server, curl, the web app's own server calling
 * the API) and carries no ambient credentials of a victim, so it is not refused here.
 */

/** The error code of a refused cross-site request (HTTP 403). */
export const CROSS_SITE_CODE = 'CROSS_SITE_REQUEST';
export const CROSS_SITE_MESSAGE = 'Requests from other sites are not accepted';

/** Methods that change nothing, never refused by origin. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `value`'s origin as the URL API computes it; null when it is not an absolute URL. */
export function originOf(value: string): string | null {
  try {
    const { origin } = new URL(value);
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

/**
 * Whether a request with these headers was sent by a page of another origin than `site` (an
 * origin such as `https://podlive.example`). `header(name)` reads a lower-case request header.
 */
export function isCrossSite(header: (name: string) => string | null | undefined, site: string): boolean {
  const origin = header('origin');
  // "null" (sandboxed frames, some redirects) is never our site.
  if (origin !== null && origin !== undefined) return originOf(origin) !== site;
  const fetchSite = header('sec-fetch-site');
  if (fetchSite !== null && fetchSite !== undefined) return fetchSite !== 'same-origin' && fetchSite !== 'none';
  const referer = header('referer');
  if (referer !== null && referer !== undefined) return originOf(referer) !== site;
  return false;
}

/** The media type of a Content-Type header, lower case, without parameters ('' when absent). */
export function mediaTypeOf(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
}
