import type { Handle, RequestEvent } from '@sveltejs/kit';
import { REFRESH_COOKIE, type SelfUser } from '@podlive/shared/accounts';
import { api, ApiFailure } from '$lib/server/api';
import { refuseUnsafeRequest } from '$lib/server/cross-site';
import { withSecurityHeaders } from '$lib/server/security-headers';
import { ACCESS_COOKIE, accessTokenUsable, clearSession, isRemembered, rotate, setSession } from '$lib/server/session';

/** Paths that never need to know who is asking. */
const ANONYMOUS = new Set(['/health']);

/**
 * Refuses state-changing requests from other sites (before anything reads the cookies), then puts
 * the signed-in user in `locals`. An access cookie that is missing or about to expire is replaced
 * using the refresh cookie (rotating both), so sessions outlive the 15-minute token. Every
 * response gets the security headers (security-headers.ts).
 *
 * What runs through here is pages, their data and form actions: the page's own calls go to /api
 * directly (src/lib/live/request.ts). Every page shows who is signed in (the layout), so the user
 * is still asked of the API (GET /api/users/me) here: this app cannot verify the access JWT itself
 * (it holds no key) and must not take the cookie's word for who is asking.
 */
export const handle: Handle = async ({ event, resolve }) => {
  const https = event.url.protocol === 'https:';
  const refused = refuseUnsafeRequest(event.request, event.url.origin);
  if (refused !== null) return withSecurityHeaders(refused, https);
  event.locals.user = null;
  event.locals.accessToken = null;
  if (!ANONYMOUS.has(event.url.pathname)) {
    try {
      await authenticate(event);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      // The API is down or failing: serve this request signed out and keep the cookies.
      console.error(`web: could not load the signed-in user (${err.status} ${err.code})`);
    }
  }
  return withSecurityHeaders(await resolve(event), https);
};

async function authenticate(event: RequestEvent): Promise<void> {
  const { cookies, url } = event;
  let access = cookies.get(ACCESS_COOKIE);
  const refresh = cookies.get(REFRESH_COOKIE);
  if (!accessTokenUsable(access)) {
    if (refresh === undefined) {
      if (access !== undefined) clearSession(cookies, url);
      return;
    }
    access = await refreshed(event, refresh);
    if (access === undefined) return;
  }
  try {
    event.locals.user = await api<SelfUser>('/api/users/me', { token: access });
    event.locals.accessToken = access;
  } catch (err) {
    if (!(err instanceof ApiFailure) || err.status !== 401) throw err;
    // The API no longer takes this access token: one more try with the refresh token.
    const retry = refresh === undefined ? undefined : await refreshed(event, refresh);
    if (retry === undefined) return clearSession(cookies, url);
    event.locals.user = await api<SelfUser>('/api/users/me', { token: retry }).catch(() => null);
    event.locals.accessToken = event.locals.user ? retry : null;
  }
}

/** Rotates the refresh token into new cookies; clears the session when the API refuses it. */
async function refreshed(event: RequestEvent, refreshToken: string): Promise<string | undefined> {
  const tokens = await rotate(refreshToken);
  if (tokens === null) {
    clearSession(event.cookies, event.url);
    return undefined;
  }
  setSession(event.cookies, event.url, tokens, isRemembered(event.cookies));
  return tokens.accessToken;
}
