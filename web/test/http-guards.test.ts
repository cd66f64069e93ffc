import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startStack, type Stack } from './stack';

/**
 * The web app's HTTP surface, with real requests to the stack (the control plane in front of the
 * built app): cross-site writes to /api with the browser's cookie are refused, redirects after
 * login stay on the site, pages and /api carry the security headers, media tokens are rate-limited
 * per address.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface Session {
  id: string;
  cookie: string;
  accessToken: string;
}

async function apiPost(path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.url}/api/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** Registers, verifies and logs in through the /login form action; the browser's cookies. */
async function signedIn(handle: string, redirectTo = ''): Promise<Session & { location: string | null }> {
  const email = `${handle}@example.com`;
  expect((await apiPost('auth/register', { email, password: PASSWORD, handle })).status).toBe(202);
  expect((await apiPost('auth/verify-otp', { email, code: await stack.latestCode(email), purpose: 'verify_email' })).ok).toBe(true);
  const query = redirectTo === '' ? '' : `?redirectTo=${encodeURIComponent(redirectTo)}`;
  const response = await fetch(`${stack.url}/login${query}`, {
    method: 'POST', redirect: 'manual',
    // A browser's own form post (no JavaScript): the action answers with the redirect itself.
    headers: { origin: stack.url, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password: PASSWORD }).toString(),
  });
  expect(response.status).toBe(303);
  const cookies = response.headers.getSetCookie().map((c) => c.split(';', 1)[0] ?? '');
  const accessToken = cookies.find((c) => c.startsWith('podlive_access='))?.split('=')[1] ?? '';
  const id = ((await (await fetch(`${stack.url}/api/users/${handle}`)).json()) as { id: string }).id;
  return { id, cookie: cookies.join('; '), accessToken, location: response.headers.get('location') };
}

const blocksOf = async (who: Session) =>
  ((await (await fetch(`${stack.url}/api/users/me/blocks`, { headers: { authorization: `Bearer ${who.accessToken}` } })).json()) as { items?: Array<{ id: string }> } | Array<{ id: string }>);

const blockedIds = async (who: Session) => {
  const list = await blocksOf(who);
  return (Array.isArray(list) ? list : (list.items ?? [])).map((u) => u.id);
};

describe('cross-site requests with the cookies', () => {
  it('a POST to /api from another origin, or with a body a foreign page sends without a preflight, blocks nobody; our own page’s POST does', async () => {
    const me = await signedIn('guard_me');
    const target = await signedIn('guard_target');
    const block = (headers: Record<string, string>) => fetch(`${stack.url}/api/users/${target.id}/block`, { method: 'POST', headers: { cookie: me.cookie, ...headers } });

    const foreign: Array<Record<string, string>> = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'https://evil.example', 'content-type': 'application/json' },
      { 'sec-fetch-site': 'cross-site' },
      { referer: 'https://evil.example/attack.html' },
    ];
    for (const headers of foreign) {
      const refused = await block(headers);
      expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code], JSON.stringify(headers)).toEqual([403, 'CROSS_SITE_REQUEST']);
    }
    const untyped: Array<Record<string, string>> = [{ origin: stack.url, 'content-type': 'text/plain' }];
    for (const headers of untyped) {
      const refused = await block(headers);
      expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code], JSON.stringify(headers)).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    expect(await blockedIds(me)).toEqual([]);

    // What the page's request helper sends: no body, the cookies, our origin.
    const ours = await block({ origin: stack.url, 'sec-fetch-site': 'same-origin' });
    expect(ours.status).toBe(200);
    expect(await blockedIds(me)).toEqual([target.id]);
  });

  it("SvelteKit's own form-action check still refuses a cross-site form post", async () => {
    const response = await fetch(`${stack.url}/login`, {
      method: 'POST', redirect: 'manual',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=a%40b.co&password=x',
    });
    expect(response.status).toBe(403);
  });
});

describe('redirects after login', () => {
  it.each([
    ['a tab between the slashes', '/\t/evil.example/'],
    ['a newline between the slashes', '/\n/evil.example/'],
    ['a backslash', '/\\evil.example/'],
    ['two slashes', '//evil.example/'],
    ['an absolute URL', 'https://evil.example/'],
  ])('%s: back to the profile, never another site', async (_, redirectTo) => {
    const session = await signedIn(`redir_${Math.random().toString(36).slice(2, 8)}`, redirectTo);
    expect(session.location).toMatch(/^\/@redir_/);
  });

  it('a path of this site is kept (parsed: a newline inside it cannot break the header)', async () => {
    expect((await signedIn('redir_keep', '/studio?tab=1')).location).toBe('/studio?tab=1');
    expect((await signedIn('redir_newline', '/stu\ndio')).location).toBe('/studio');
  });

  it('a signed-in visit to /login with a newline in redirectTo is a redirect, not a 500', async () => {
    const session = await signedIn('redir_get');
    for (const redirectTo of ['%0A', '/a%0Ab', '/%0D%0ASet-Cookie:%20x=y']) {
      const response = await fetch(`${stack.url}/login?redirectTo=${redirectTo}`, { headers: { cookie: session.cookie }, redirect: 'manual' });
      expect(response.status, redirectTo).toBe(303);
      expect(response.headers.get('location'), redirectTo).toMatch(/^\/[^/\\]/);
      expect(response.headers.get('set-cookie') ?? '', redirectTo).not.toContain('x=y');
    }
  });
});

describe('security headers', () => {
  it.each(['/', '/login', '/api/live/active', '/api/users/nobody_here'])('%s: no framing, no sniffing, a referrer policy', async (path) => {
    const response = await fetch(`${stack.url}${path}`);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(response.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    // Served over http here: no HSTS (browsers would ignore it, and development must not pin https).
    expect(response.headers.get('strict-transport-security')).toBeNull();
  });

  it.each(['/', '/studio', '/login'])('%s: the camera and microphone for this site only, nothing else powerful', async (path) => {
    const policy = (await fetch(`${stack.url}${path}`, { redirect: 'manual' })).headers.get('permissions-policy') ?? '';
    expect(policy).toContain('camera=(self)');
    expect(policy).toContain('microphone=(self)');
    expect(policy).toContain('geolocation=()');
  });
});

describe('media tokens', () => {
  it('are limited per address: past the limit, 429 RATE_LIMITED with Retry-After', async () => {
    const url = `${stack.url}/api/live/00000000-0000-4000-8000-000000000000/token`;
    // The default limit is 120 a minute per address; every request counts, whatever its answer.
    const answers = await Promise.all(Array.from({ length: 130 }, async () => {
      const response = await fetch(url);
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { error?: { code: string } } };
    }));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(10);
    const response = { status: limited[0]?.status, headers: new Headers({ 'retry-after': limited[0]?.retryAfter ?? '' }), json: async () => limited[0]?.body };
    expect((await response.json())?.error?.code).toBe('RATE_LIMITED');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
