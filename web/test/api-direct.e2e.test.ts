import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ACCESS_COOKIE } from '@podlive/shared/accounts';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { useStackAndBrowser } from './e2e-suite';
import { signIn, type ServedRequest } from './stack';
import { goLiveFromStudio } from './studio';

type MediaWindow = { podliveMedia?: { inboundStats(): Promise<InboundStats> } };

/**
 * The page calls the control plane's /api itself, with the access cookie: a viewer's media token is
 * one request from the browser to the server (no relay through the web app, which would show as a
 * second request for the same token, made by the web app's server), and an expired access token
 * is renewed by the page (POST /api/auth/renew) and the call repeated once.
 */
describe('the browser calls /api directly (control plane + a real SFU node)', () => {
  const served: ServedRequest[] = [];
  const e2e = useStackAndBrowser({ media: true, onServed: (request) => served.push(request) });
  const servedSince = (mark: number) => served.slice(mark);

  const decodes = async (page: Page) => {
    const frames = async () => (await page.evaluate(() => (window as MediaWindow).podliveMedia?.inboundStats() ?? null))?.video.framesDecoded ?? 0;
    await expect.poll(frames, { timeout: 20_000 }).toBeGreaterThan(10);
  };

  it('a signed-in viewer gets its token in one request, signed in by the cookie; an expired token is renewed and the call repeated', { timeout: 180_000 }, async () => {
    const host = await e2e.browser.newPage();
    await signIn(e2e.stack, host, { handle: 'direct_host', displayName: 'Direct Host', path: '/studio' });
    const id = await goLiveFromStudio(host, 'Straight to the API');

    const viewer = await e2e.browser.newPage();
    const viewerId = await signIn(e2e.stack, viewer, { handle: 'direct_viewer', displayName: 'Direct Viewer', path: '/' });
    const mark = served.length;
    await viewer.goto(`/live/${id}`);
    await decodes(viewer);
    const tokenPath = `/api/live/${id}/token`;
    const tokenRequests = servedSince(mark).filter((r) => r.path === tokenPath || r.path.endsWith('/media-token'));
    expect(tokenRequests).toEqual([{ method: 'GET', path: tokenPath, status: 200, callerId: viewerId }]);
    console.info(`requests the server received while the viewer page loaded and started playing: ${servedSince(mark).map((r) => `${r.method} ${r.path}`).join(', ')}`);

    // The access token goes bad under the open page (as when it expires): its next call is
    // answered 401, the page renews its cookies and repeats the call, signed in again.
    // (after the page's own first calls: the notifications inbox loads as the page opens)
    const inboxLoaded = viewer.waitForResponse((r) => new URL(r.url()).pathname === '/api/notifications');
    await viewer.goto('/discover');
    expect((await inboxLoaded).status()).toBe(200);
    await viewer.context().addCookies([{ name: ACCESS_COOKIE, value: 'expired.or.forged', url: e2e.stack.url }]);
    const renewMark = served.length;
    await viewer.getByLabel('Search people and lives').fill('direct');
    await viewer.getByRole('list', { name: 'Suggestions' }).getByRole('link', { name: /@direct_host/ }).waitFor({ timeout: 10_000 });
    const calls = servedSince(renewMark).filter((r) => r.path.startsWith('/api/'));
    const firstSuggest = calls.findIndex((r) => r.path === '/api/search/suggest');
    expect(calls.slice(firstSuggest, firstSuggest + 3)).toEqual([
      { method: 'GET', path: '/api/search/suggest', status: 401, callerId: null },
      { method: 'POST', path: '/api/auth/renew', status: 204, callerId: null },
      { method: 'GET', path: '/api/search/suggest', status: 200, callerId: viewerId },
    ]);
    expect(calls.filter((r) => r.path === '/api/auth/renew')).toHaveLength(1);
    const access = (await viewer.context().cookies()).find((c) => c.name === ACCESS_COOKIE);
    expect(access?.value).toMatch(/^ey/);
    expect(access?.httpOnly).toBe(true);
  });
});
