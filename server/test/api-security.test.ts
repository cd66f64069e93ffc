import { REFRESH_COOKIE } from '@podlive/shared/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startHarness, type Harness } from './accounts/harness';

/**
 * /api refuses state-changing requests a page of another site sends (the refresh cookie would go
 * along), refuses bodies a foreign page can send without a preflight, and answers with headers
 * that forbid framing and sniffing.
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

/** POST /api/auth/refresh with the refresh cookie only, as a browser sends it, plus `headers`. */
const refreshWithCookie = (refreshToken: string, headers: Record<string, string>) =>
  h.app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { [REFRESH_COOKIE]: refreshToken }, headers });

describe('cross-site requests to /api', () => {
  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin null (a sandboxed frame)', { origin: 'null' }],
    ['the same host on another port', { origin: 'http://localhost:1' }],
    ['no Origin, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['no Origin, Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
    ['no Origin, a foreign Referer', { referer: 'https://evil.example/page' }],
  ])('%s: 403 CROSS_SITE_REQUEST, and the cookie is not used', async (_, headers) => {
    const me = await signUp(h.app);
    const refused = await refreshWithCookie(me.refreshToken, headers);
    expect([refused.statusCode, refused.json().error.code]).toEqual([403, 'CROSS_SITE_REQUEST']);
    const logout = await h.app.inject({ method: 'POST', url: '/api/auth/logout', cookies: { [REFRESH_COOKIE]: me.refreshToken }, headers });
    expect(logout.statusCode).toBe(403);
    // The session survived both: the same token still rotates from our own origin.
    const ours = await refreshWithCookie(me.refreshToken, { origin: site });
    expect(ours.statusCode).toBe(200);
  });

  it('our own origin, and clients that are not browsers (no Origin at all), go through', async () => {
    const me = await signUp(h.app);
    expect((await refreshWithCookie(me.refreshToken, { origin: site, 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
    const other = await signUp(h.app);
    expect((await refreshWithCookie(other.refreshToken, {})).statusCode).toBe(200);
  });

  it('reads (GET) are not refused by origin', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/api/live/active', headers: { origin: 'https://evil.example' } });
    expect(response.statusCode).toBe(200);
  });

  it('a text/plain body (no preflight needed) is 415, not parsed', async () => {
    const me = await signUp(h.app);
    const response = await h.app.inject({
      method: 'POST', url: '/api/auth/logout', cookies: { [REFRESH_COOKIE]: me.refreshToken },
      headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ refreshToken: me.refreshToken }),
    });
    expect([response.statusCode, response.json().error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect((await refreshWithCookie(me.refreshToken, {})).statusCode).toBe(200);
  });
});

describe('security headers on /api responses', () => {
  it.each([
    ['a JSON answer', 'GET', '/api/live/active'],
    ['an error', 'GET', '/api/users/me'],
    ['a refused write', 'POST', '/api/auth/logout'],
  ] as const)('%s', async (_, method, url) => {
    const response = await h.app.inject({ method, url, headers: method === 'POST' ? { origin: 'https://evil.example' } : {} });
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'strict-origin-when-cross-origin',
      'x-frame-options': 'DENY',
    });
    expect(String(response.headers['content-security-policy'])).toMatch(/frame-ancestors 'none'/);
  });
});

describe('HSTS', () => {
  it('is sent by a site whose PUBLIC_URL is https, never by one on http', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/api/live/active' })).headers['strict-transport-security']).toBeUndefined();
    const tls = await startHarness({ publicUrl: 'https://podlive.test' });
    try {
      const response = await tls.app.inject({ method: 'GET', url: '/api/live/active' });
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await tls.close();
    }
  });
});
