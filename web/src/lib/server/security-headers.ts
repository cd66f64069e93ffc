/**
 * Headers on every response of the web app. Framing is refused twice: `frame-ancestors 'none'` in
 * the CSP (svelte.config.js) for current browsers, X-Frame-Options for old ones. The camera and
 * microphone are this site's only (the studio, the stage); other powerful features nobody's.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
  'permissions-policy': 'camera=(self), microphone=(self), display-capture=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), browsing-topics=()',
};

/** Served over https (behind the TLS proxy): browsers keep to https for a year. Never on http (development). */
export const HSTS = 'max-age=31536000; includeSubDomains';

/**
 * `response` with the security headers set (a copy when its headers are immutable, e.g. a fetched
 * response); HSTS when the page was asked for over https.
 */
export function withSecurityHeaders(response: Response, https = false): Response {
  const headers = https ? { ...SECURITY_HEADERS, 'strict-transport-security': HSTS } : SECURITY_HEADERS;
  let out = response;
  try {
    for (const [name, value] of Object.entries(headers)) out.headers.set(name, value);
  } catch {
    out = new Response(response.body, response);
    for (const [name, value] of Object.entries(headers)) out.headers.set(name, value);
  }
  return out;
}
