import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { PASSWORD, signIn } from './stack';
import { goLiveFromStudio } from './studio';
import { useStackAndBrowser } from './e2e-suite';

/** Where screenshots go (looked at by hand): /tmp by default. */
const SHOTS = process.env.PODLIVE_SCREENSHOTS ?? '/tmp';

type MediaWindow = { podliveMedia?: { inboundStats(): Promise<InboundStats>; consumers: Map<string, { kind: string }>; transportId(direction: 'recv'): Promise<string | undefined> } };

describe('going live from /studio and watching on /live/:id (control plane + a real SFU node)', () => {
  const e2e = useStackAndBrowser({ media: true });

  const newPage = () => e2e.browser.newPage();

  const signedInHost = async (handle: string) => {
    const page = await newPage();
    await signIn(e2e.stack, page, { handle, displayName: `Host ${handle}`, path: '/studio' });
    return page;
  };

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

  const stats = async (page: Page) => (await page.evaluate(() => (window as MediaWindow).podliveMedia?.inboundStats() ?? null))!;
  const videoConsumers = (page: Page) => page.evaluate(() => [...((window as MediaWindow).podliveMedia?.consumers.values() ?? [])].filter((c) => c.kind === 'video').length);
  const decodes = async (page: Page) => {
    await expect.poll(async () => (await stats(page))?.video.framesDecoded ?? 0, { timeout: 20_000 }).toBeGreaterThan(10);
    await expect.poll(async () => (await stats(page))?.audio.packetsReceived ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
  };
  const viewersOf = (page: Page) => page.getByRole('status', { name: 'Viewers' }).textContent();

  it('/studio sends the signed-out to /login', async () => {
    const page = await newPage();
    await page.goto('/studio');
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('redirectTo')).toBe('/studio');
  });

  it('a host goes live, three viewers watch, one listens only, the host ends it for everyone', { timeout: 180_000 }, async () => {
    const host = await signedInHost('studio_host');
    await expect.poll(() => host.getByRole('link', { name: 'Go live' }).count()).toBe(1);
    for (const label of ['Title', 'Description', 'Category', 'Camera', 'Microphone']) expect(await host.getByLabel(label, { exact: true }).count()).toBe(1);
    await expect.poll(() => host.getByLabel('Camera', { exact: true }).locator('option').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await shot(host, 'studio-prelive');

    const id = await goLiveFromStudio(host, 'Live from the test studio', 'Testing the whole live path.');
    expect(await viewersOf(host)).toBe('0');

    // The home feed lists it while it is live (with the host and the thumbnail of its first frame).
    const home = await newPage();
    await home.goto('/');
    const card = home.getByRole('article').filter({ hasText: 'Live from the test studio' });
    expect(await card.count()).toBe(1);
    expect(await card.textContent()).toContain('Host studio_host');

    // Three anonymous viewers on three machines (anonymous viewers count once per address).
    const viewers = await Promise.all([1, 2, 3].map((n) => e2e.browser.newPage({ forwardedFor: `203.0.113.${n}` })));
    await Promise.all(viewers.slice(0, 2).map((v) => v.goto(`/live/${id}`)));
    await Promise.all(viewers.slice(0, 2).map(decodes));
    await expect.poll(() => viewersOf(host), { timeout: 3000 }).toBe('2');
    const thirdOpened = Date.now();
    await viewers[2]!.goto(`/live/${id}`);
    await decodes(viewers[2]!);
    const thirdDecoding = Date.now();
    await expect.poll(() => viewersOf(host), { timeout: 2000, interval: 50 }).toBe('3');
    const countLatencyMs = Date.now() - thirdDecoding;
    console.info(`host saw 3 viewers ${countLatencyMs} ms after the third viewer decoded (${Date.now() - thirdOpened} ms after it opened the page)`);
    expect(countLatencyMs).toBeLessThan(2000);
    await expect.poll(() => viewersOf(viewers[0]!), { timeout: 3000 }).toBe('3');
    await shot(viewers[0]!, 'live-viewer');
    await shot(host, 'studio-live');
    await home.reload();
    await expect.poll(async () => (await home.getByRole('article').filter({ hasText: 'Live from the test studio' }).textContent()) ?? '', { timeout: 5000 }).toContain('3 watching');
    await shot(home, 'home');

    // Share (no share sheet in this browser: the link goes on the clipboard); Fullscreen.
    const sharer = viewers[1]!;
    await sharer.getByRole('button', { name: 'Share' }).click();
    await sharer.getByText('Link copied').waitFor({ timeout: 3000 });
    await sharer.getByRole('button', { name: 'Fullscreen' }).click();
    await expect.poll(() => sharer.evaluate(() => document.fullscreenElement?.tagName ?? null)).toBe('DIV');
    await sharer.getByRole('button', { name: 'Fullscreen' }).click();
    await expect.poll(() => sharer.evaluate(() => document.fullscreenElement)).toBe(null);

    // The node closes a viewer's receive transport: the page gets a new one and decodes again,
    // without a reload.
    const survivor = viewers[0]!;
    const lostId = await survivor.evaluate(() => (window as MediaWindow).podliveMedia!.transportId('recv'));
    const navigations: string[] = [];
    survivor.on('framenavigated', (frame) => navigations.push(frame.url()));
    const room = e2e.stack.node!.rooms.get(id)!;
    const lost = [...room.peers.values()].map((p) => p.transports.get(lostId!)).find((t) => t !== undefined);
    lost!.close();
    await expect.poll(() => survivor.evaluate(() => (window as MediaWindow).podliveMedia!.transportId('recv')), { timeout: 10_000 }).not.toBe(lostId);
    const framesAfter = (await stats(survivor)).video.framesDecoded;
    await expect.poll(async () => (await stats(survivor)).video.framesDecoded, { timeout: 15_000 }).toBeGreaterThan(framesAfter + 10);
    expect(navigations).toEqual([]);

    // Listen only: the video consumer goes, audio keeps flowing.
    const listener = viewers[2]!;
    const toggle = listener.getByRole('button', { name: 'Listen only' });
    expect(await toggle.getAttribute('aria-pressed')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => videoConsumers(listener), { timeout: 5000 }).toBe(0);
    const audioBefore = (await stats(listener)).audio.packetsReceived;
    await expect.poll(async () => (await stats(listener)).audio.packetsReceived, { timeout: 10_000 }).toBeGreaterThan(audioBefore + 25);
    expect((await stats(listener)).video.framesDecoded).toBe(0);
    expect(await videoConsumers(viewers[0]!)).toBe(1);

    // End Live asks first; Cancel keeps the live going.
    await host.getByRole('button', { name: 'End Live' }).click();
    const dialog = host.getByRole('dialog');
    await dialog.waitFor();
    await shot(host, 'studio-end-dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await host.getByRole('button', { name: 'End Live' }).click();
    const confirmed = Date.now();
    await dialog.getByRole('button', { name: 'End Live' }).click();
    const endedAt = await Promise.all(
      viewers.map(async (v) => {
        await v.getByText('This live has ended').waitFor({ timeout: 2000 });
        return Date.now() - confirmed;
      }),
    );
    console.info(`viewers showed the ended state ${endedAt.join(', ')} ms after the host confirmed`);
    for (const ms of endedAt) expect(ms).toBeLessThan(2000);
    await host.getByText('Live ended').waitFor({ timeout: 5000 });
    await shot(viewers[0]!, 'live-ended');
    await shot(host, 'studio-ended');

    // And it is gone from the feed.
    await home.reload();
    expect(await home.getByRole('article').filter({ hasText: 'Live from the test studio' }).count()).toBe(0);
  });

  it('a scheduled live: "hasn\'t started yet" (listed as upcoming), then the page starts watching by itself', { timeout: 60_000 }, async () => {
    const email = 'later_host@example.com';
    const api = async <T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> => {
      const headers: Record<string, string> = {};
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      const response = await fetch(`${e2e.stack.url}/api${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
      if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    await api('/auth/register', { method: 'POST', body: { email, password: PASSWORD, handle: 'later_host', displayName: 'Later Host' } });
    await api('/auth/verify-otp', { method: 'POST', body: { email, code: await e2e.stack.latestCode(email), purpose: 'verify_email' } });
    const { accessToken } = await api<{ accessToken: string }>('/auth/login', { method: 'POST', body: { email, password: PASSWORD } });
    const scheduledAt = new Date(Date.now() + 3600_000).toISOString();
    const { session } = await api<{ session: { id: string } }>('/live/create', { method: 'POST', token: accessToken, body: { title: 'Coming up later', category: 'Music', scheduledAt } });

    const home = await newPage();
    await home.goto('/');
    expect(await home.getByRole('region', { name: 'Upcoming' }).getByRole('article').filter({ hasText: 'Coming up later' }).count()).toBe(1);

    const viewer = await newPage();
    await viewer.goto(`/live/${session.id}`);
    await viewer.getByText("This live hasn't started yet").waitFor();
    await shot(viewer, 'live-scheduled');
    // Following needs an account: the signed-out go to log in and come back here.
    const follower = await newPage();
    await follower.goto(`/live/${session.id}`);
    await follower.getByRole('button', { name: 'Follow' }).click();
    await follower.waitForURL('**/login?**');
    expect(new URL(follower.url()).searchParams.get('redirectTo')).toBe(`/live/${session.id}`);

    await api(`/live/${session.id}/start`, { method: 'POST', token: accessToken });
    await viewer.getByText("This live hasn't started yet").waitFor({ state: 'detached', timeout: 6000 });
    await expect.poll(() => viewer.evaluate(() => (window as MediaWindow).podliveMedia !== undefined), { timeout: 10_000 }).toBe(true);
    await api(`/live/${session.id}/end`, { method: 'POST', token: accessToken });
    await viewer.getByText('This live has ended').waitFor({ timeout: 2000 });
  });
});
