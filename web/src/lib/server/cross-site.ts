import { json } from '@sveltejs/kit';
import { CROSS_SITE_CODE, CROSS_SITE_MESSAGE, isCrossSite, mediaTypeOf, SAFE_METHODS } from '@podlive/shared/cross-site';

/**
 * What a state-changing request to this app may carry: JSON, and the two form encodings of form
 * actions (the page's own calls go to /api, which applies the same cross-site rule). A bare POST (no Content-Type)
 * or text/plain is what a foreign page can send without a CORS preflight: refused.
 */
const ACCEPTED_TYPES = new Set(['application/json', 'multipart/form-data', 'application/x-www-form-urlencoded']);

/**
 * The refusal of a state-changing request from another site (403 CROSS_SITE_REQUEST) or with a
 * content type no endpoint takes (415 UNSUPPORTED_MEDIA_TYPE); null when the request may go on.
 * `site` is this app's origin as the browser sees it (event.url.origin, behind the control plane
 * from X-Forwarded-Host/-Proto). SvelteKit's own form-action origin check still runs before this.
 */
export function refuseUnsafeRequest(request: Request, site: string): Response | null {
  if (SAFE_METHODS.has(request.method)) return null;
  if (isCrossSite((name) => request.headers.get(name), site)) {
    return json({ error: { code: CROSS_SITE_CODE, message: CROSS_SITE_MESSAGE } }, { status: 403 });
  }
  if (!ACCEPTED_TYPES.has(mediaTypeOf(request.headers.get('content-type')))) {
    return json({ error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send JSON (Content-Type: application/json)' } }, { status: 415 });
  }
  return null;
}
