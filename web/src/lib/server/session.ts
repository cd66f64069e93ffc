import type { Cookies } from '@sveltejs/kit';
import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_TOKEN_TTL_DAYS } from '@podlive/shared/accounts';
import { api, ApiFailure } from './api';

/**
 * The web app's own session cookies. The API's tokens are signed by the API (the access JWT) or
 * opaque and checked by it (the refresh token), so a forged cookie gets nobody anywhere.
 *  - REFRESH_COOKIE: the refresh token; 30 days with "remember me", else a session cookie.
 *  - ACCESS_COOKIE: the access JWT (valid 15 minutes), which the page's own calls to /api carry;
 *    the cookie lives as long as the refresh cookie, so an expired token still reaches the API,
 *    which answers 401 and the page renews (POST /api/auth/renew, which sets both cookies).
 *  - REMEMBER_COOKIE: marks a remembered session, so rotation keeps the refresh cookie persistent.
 */
export { ACCESS_COOKIE };
const REMEMBER_COOKIE = 'podlive_remember';
const REMEMBER_SEC = REFRESH_TOKEN_TTL_DAYS * 24 * 3600;

export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** Secure everywhere but plain http on this machine (development, tests). */
function options(url: URL) {
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return { path: '/', httpOnly: true, sameSite: 'lax', secure: !local } as const;
}

export function setSession(cookies: Cookies, url: URL, tokens: Tokens, remember: boolean): void {
  const base = options(url);
  const lifetime = remember ? { ...base, maxAge: REMEMBER_SEC } : base;
  cookies.set(ACCESS_COOKIE, tokens.accessToken, lifetime);
  cookies.set(REFRESH_COOKIE, tokens.refreshToken, lifetime);
  if (remember) cookies.set(REMEMBER_COOKIE, '1', { ...base, maxAge: REMEMBER_SEC });
  else cookies.delete(REMEMBER_COOKIE, base);
}

export function clearSession(cookies: Cookies, url: URL): void {
  const base = options(url);
  for (const name of [ACCESS_COOKIE, REFRESH_COOKIE, REMEMBER_COOKIE]) cookies.delete(name, base);
}

export const isRemembered = (cookies: Cookies) => cookies.get(REMEMBER_COOKIE) === '1';

/** True while the JWT's `exp` is at least 30 s away. Only a hint: the API verifies the token. */
export function accessTokenUsable(token: string | undefined): token is string {
  const payload = token?.split('.')[1];
  if (payload === undefined) return false;
  try {
    const { exp } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof exp === 'number' && exp * 1000 - Date.now() > 30_000;
  } catch {
    return false;
  }
}

// Refresh tokens are single use. Requests of one browser that arrive together (a page and its
// data, two tabs) share one rotation instead of racing, and one arriving a moment later still
// gets the new pair. The window is short: after it, an old token is the API's to judge (reuse).
const rotations = new Map<string, Promise<Tokens | null>>();
const ROTATION_MEMORY_MS = 15_000;

/** New tokens for a refresh token, or null when the API refuses it (expired, revoked, reused). */
export function rotate(refreshToken: string): Promise<Tokens | null> {
  let pending = rotations.get(refreshToken);
  if (pending === undefined) {
    pending = api<Tokens>('/api/auth/refresh', { method: 'POST', body: { refreshToken } }).catch((err: unknown) => {
      if (err instanceof ApiFailure && err.status >= 400 && err.status < 500) return null;
      rotations.delete(refreshToken);
      throw err;
    });
    rotations.set(refreshToken, pending);
    setTimeout(() => rotations.delete(refreshToken), ROTATION_MEMORY_MS).unref();
  }
  return pending;
}
