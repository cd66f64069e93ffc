import { ACCESS_COOKIE, REFRESH_COOKIE, signAccessToken, verifyAccessToken } from '@podlive/shared/accounts';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Account, bearer, post, signUp, startHarness, type Harness } from './harness';

/**
 * The browser calls /api itself, with the httpOnly access cookie the web app set at login: the API
 * reads it when there is no Authorization header, only for its own origin's pages; a stale one is
 * 401 so the page renews (POST /api/auth/renew), and a cross-site write carrying it is refused.
 */

let h: Harness;
let site: string;
beforeAll(async () => {
  h = await startHarness();
  site = new URL(h.config.publicUrl).origin;
});
afterAll(async () => {
  await h.close();
});

const withCookie = (token: string, o: { method?: 'GET' | 'POST' | 'DELETE'; url: string; headers?: Record<string, string> }) =>
  h.app.inject({ method: o.method ?? 'GET', url: o.url, cookies: { [ACCESS_COOKIE]: token }, headers: o.headers ?? {} });

const blockedIds = async (who: Account) =>
  ((await h.app.inject({ method: 'GET', url: '/api/users/me/blocks', headers: bearer(who.accessToken) })).json() as { items: Array<{ id: string }> }).items.map((u) => u.id);

/** The value of cookie `name` a response sets ('' when it clears it), undefined when it sets none. */
function cookieSet(response: LightMyRequestResponse, name: string): { value: string; maxAge: number | undefined } | undefined {
  const cookie = response.cookies.find((c) => c.name === name);
  return cookie === undefined ? undefined : { value: cookie.value, maxAge: cookie.maxAge };
}

const expiredTokenOf = async (account: Account) => {
  const claims = await verifyAccessToken(h.config.secrets.jwtAccess, account.accessToken);
  if (claims === null) throw new Error('the fresh token does not verify');
  return signAccessToken(h.config.secrets.jwtAccess, claims, 0);
};

describe('the access cookie on /api', () => {
  it('signs the caller in when there is no Authorization header', async () => {
    const me = await signUp(h.app);
    const response = await withCookie(me.accessToken, { url: '/api/users/me', headers: { origin: site } });
    expect(response.statusCode).toBe(200);
    expect(response.json().id).toBe(me.id);
    // Without Origin (a same-origin GET of a browser, or no browser at all): the same.
    expect((await withCookie(me.accessToken, { url: '/api/users/me' })).json().id).toBe(me.id);
  });

  it('counts for our own pages only: with a foreign Origin the caller is anonymous', async () => {
    const me = await signUp(h.app);
    const response = await withCookie(me.accessToken, { url: '/api/users/me', headers: { origin: 'https://evil.example' } });
    expect([response.statusCode, response.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('the Authorization header wins over the cookie', async () => {
    const me = await signUp(h.app);
    const other = await signUp(h.app);
    const response = await h.app.inject({ method: 'GET', url: '/api/users/me', cookies: { [ACCESS_COOKIE]: other.accessToken }, headers: bearer(me.accessToken) });
    expect(response.json().id).toBe(me.id);
  });

  it.each([
    ['expired', expiredTokenOf],
    ['forged', async () => 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl'],
  ])('an %s cookie is 401 UNAUTHENTICATED on a public route (the page renews), anonymous on /api/auth and /api/media', async (_, tokenOf) => {
    const token = await tokenOf(await signUp(h.app));
    const open = await withCookie(token, { url: '/api/live/active' });
    expect([open.statusCode, open.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect((await withCookie(token, { url: '/api/auth/check-handle/somebody_new' })).statusCode).toBe(200);
    // A picture an <img> loads: it cannot renew, so it is served (here: there is none) as to anyone.
    expect((await withCookie(token, { url: '/api/media/avatars/none.webp' })).statusCode).toBe(404);
  });

  it('a cookie of an ended session (logout) is 401', async () => {
    const me = await signUp(h.app);
    expect((await post(h.app, '/api/auth/logout', { refreshToken: me.refreshToken })).statusCode).toBe(204);
    const response = await withCookie(me.accessToken, { url: '/api/users/me' });
    expect([response.statusCode, response.json().error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('cross-site writes with the cookie', () => {
  it('are refused (403 CROSS_SITE_REQUEST) and change nothing; our own page’s write goes through', async () => {
    const me = await signUp(h.app);
    const target = await signUp(h.app);
    const block = (headers: Record<string, string>) => withCookie(me.accessToken, { method: 'POST', url: `/api/users/${target.id}/block`, headers });
    const foreign: Array<Record<string, string>> = [{ origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'same-site' }, { referer: 'https://evil.example/a.html' }];
    for (const headers of foreign) {
      const refused = await block(headers);
      expect([refused.statusCode, refused.json().error.code], JSON.stringify(headers)).toEqual([403, 'CROSS_SITE_REQUEST']);
    }
    expect(await blockedIds(me)).toEqual([]);
    const ours = await block({ origin: site, 'sec-fetch-site': 'same-origin' });
    expect(ours.statusCode).toBe(200);
    expect(await blockedIds(me)).toEqual([target.id]);
  });

  it('a cross-site renew is refused and the refresh cookie still works afterwards', async () => {
    const me = await signUp(h.app);
    const refused = await h.app.inject({ method: 'POST', url: '/api/auth/renew', cookies: { [REFRESH_COOKIE]: me.refreshToken }, headers: { origin: 'https://evil.example' } });
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, 'CROSS_SITE_REQUEST']);
    expect(cookieSet(refused, ACCESS_COOKIE)).toBeUndefined();
    const renewed = await h.app.inject({ method: 'POST', url: '/api/auth/renew', cookies: { [REFRESH_COOKIE]: me.refreshToken }, headers: { origin: site } });
    expect(renewed.statusCode).toBe(204);
  });
});

describe('POST /api/auth/renew', () => {
  const renew = (refreshToken: string | undefined, access?: string) =>
    h.app.inject({
      method: 'POST', url: '/api/auth/renew', headers: { origin: site },
      cookies: { ...(refreshToken === undefined ? {} : { [REFRESH_COOKIE]: refreshToken }), ...(access === undefined ? {} : { [ACCESS_COOKIE]: access }) },
    });

  it('rotates the refresh cookie into new access and refresh cookies, with no token in the body; a stale access cookie does not stand in the way', async () => {
    const me = await signUp(h.app);
    const response = await renew(me.refreshToken, await expiredTokenOf(me));
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    const access = cookieSet(response, ACCESS_COOKIE);
    const refresh = cookieSet(response, REFRESH_COOKIE);
    expect(refresh?.value).toMatch(/.{20,}/);
    expect(refresh?.value).not.toBe(me.refreshToken);
    const cookie = response.cookies.find((c) => c.name === ACCESS_COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect((await withCookie(access?.value ?? '', { url: '/api/users/me' })).json().id).toBe(me.id);
  });

  it('tabs renewing with the same cookie at once, or a moment later, get one rotation (the session is not revoked as reused)', async () => {
    const me = await signUp(h.app);
    const [a, b] = await Promise.all([renew(me.refreshToken), renew(me.refreshToken)]);
    const late = await renew(me.refreshToken);
    expect([a.statusCode, b.statusCode, late.statusCode]).toEqual([204, 204, 204]);
    const issued = new Set([a, b, late].map((r) => cookieSet(r, REFRESH_COOKIE)?.value));
    expect(issued.size).toBe(1);
    // The new refresh token goes on working.
    const next = await renew([...issued][0]);
    expect(next.statusCode).toBe(204);
  });

  it('without a refresh cookie, or with a revoked one: 401, and both cookies are cleared', async () => {
    const none = await renew(undefined);
    expect([none.statusCode, none.json().error.code]).toEqual([401, 'REFRESH_TOKEN_INVALID']);
    const me = await signUp(h.app);
    expect((await post(h.app, '/api/auth/logout', { refreshToken: me.refreshToken })).statusCode).toBe(204);
    const revoked = await renew(me.refreshToken, me.accessToken);
    expect(revoked.statusCode).toBe(401);
    for (const name of [ACCESS_COOKIE, REFRESH_COOKIE]) expect(cookieSet(revoked, name)?.value, name).toBe('');
  });
});
