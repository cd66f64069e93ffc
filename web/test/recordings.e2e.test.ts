import { mkdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { RecordingFinishedBody } from '@podlive/shared/recording';
import type { PodliveTestHooks } from '../src/lib/media/test-hooks';
import { openBrowser, type BrowserHarness } from './browser';
import { encodeTestRecording, reportFinished, storeRecording, type EncodedRecording } from './recording-media';
import { MEDIA_TOKEN_KEYS, startStack, type Stack } from './stack';

const SHOTS = process.env.PODLIVE_SCREENSHOTS ?? '/tmp/podlive-shots';
const PASSWORD = 'correct horse battery staple';
const HANDLE = 'rec_host';

/** The /ws sockets of a page, so a test knows the server has joined it before publishing to it. */
declare global {
  interface Window {
    testSockets?: WebSocket[];
  }
}

describe('recordings: the profile lists them, /recordings/:id plays them, the owner manages them', () => {
  let stack: Stack;
  let browser: BrowserHarness;
  let media: EncodedRecording;
  let token: string;

  beforeAll(async () => {
    [stack, browser, media] = await Promise.all([startStack(), openBrowser(() => stack.url), encodeTestRecording(), mkdir(SHOTS, { recursive: true })]);
  });

  afterAll(async () => {
    expect(browser.cspViolations).toEqual([]);
    await browser?.close();
    await stack?.stop();
    await media?.remove();
  });

  async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${stack.url}/api${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  /** A live of the host, started and ended (no media: the recorder's part is played by the test). */
  async function endedLive(title: string): Promise<string> {
    const { session } = await api<{ session: { id: string } }>('/live/create', { method: 'POST', body: { title, category: 'Tech' } });
    await api(`/live/${session.id}/start`, { method: 'POST' });
    await api(`/live/${session.id}/end`, { method: 'POST' });
    return session.id;
  }

  async function finished(sessionId: string, body: RecordingFinishedBody): Promise<string> {
    const response = await reportFinished(stack.url, MEDIA_TOKEN_KEYS.privateKey, sessionId, body);
    expect(response.status).toBe(200);
    return ((await response.json()) as { id: string }).id;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const hls = (page: Page) => page.evaluate(() => {
    const player = (window as PodliveTestHooks).podliveHls;
    return player ? { levels: player.levels.map((l) => l.height), currentLevel: player.currentLevel } : null;
  });
  /** Plays once hls.js has the manifest: a play() before it attaches is cut off by its load (seen in CI). */
  const play = async (page: Page) => {
    await expect.poll(async () => (await hls(page))?.levels.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
    await page.locator('video').evaluate((v: HTMLVideoElement) => {
      v.muted = true;
      return v.play();
    });
  };
  const currentTime = (page: Page) => page.locator('video').evaluate((v: HTMLVideoElement) => v.currentTime);

  async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    await context.addInitScript(() => {
      const Native = window.WebSocket;
      window.testSockets = [];
      window.WebSocket = class extends Native {
        constructor(url: string | URL, protocols?: string | string[]) {
          super(url, protocols);
          window.testSockets?.push(this);
        }
      };
    });
    const page = await browser.newPage({ context });
    await page.goto(`/login?redirectTo=/@${HANDLE}`);
    await page.getByLabel('Email').fill(`${HANDLE}@example.com`);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(`**/@${HANDLE}`);
    return { context, page };
  }

  /** Resolves once the page's /ws connection answered a ping: the server has joined it to the user's channel. */
  const socketReady = (page: Page) =>
    page.evaluate(async () => {
      for (;;) {
        const socket = window.testSockets?.find((s) => s.readyState === WebSocket.OPEN);
        if (socket) {
          return new Promise<void>((resolve) => {
            socket.addEventListener('message', (m) => String(m.data).includes('"pong"') && resolve());
            socket.send('{"type":"ping"}');
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });

  /** The API's status for the owner. */
  const statusOf = async (path: string) => (await fetch(`${stack.url}/api${path}`, { headers: { authorization: `Bearer ${token}` } })).status;

  it('a finished live shows up, plays with a quality menu, is renamed, made private and deleted', { timeout: 120_000 }, async () => {
    const email = `${HANDLE}@example.com`;
    await api('/auth/register', { method: 'POST', body: { email, password: PASSWORD, handle: HANDLE, displayName: 'Rec Host' } });
    await api('/auth/verify-otp', { method: 'POST', body: { email, code: await stack.latestCode(email), purpose: 'verify_email' } });
    ({ accessToken: token } = await api<{ accessToken: string }>('/auth/login', { method: 'POST', body: { email, password: PASSWORD } }));

    // Eight older episodes without media (a page is eight): the ninth comes with "Load more".
    for (let i = 1; i <= 8; i++) {
      const sessionId = await endedLive(`Older episode ${i}`);
      await finished(sessionId, { status: 'ready', durationSec: i === 8 ? 3725 : 60 * i, sizeBytes: 0, renditions: [], masterKey: null, thumbnailKey: null });
    }

    const { page: host } = await signedIn();
    await socketReady(host);
    // The newest live's recording is reported while the host looks at their profile.
    const sessionId = await endedLive('Recorded <b>episode</b> one');
    const id = await finished(sessionId, await storeRecording(stack.dataDir, sessionId, media));
    const notice = host.getByTestId('recording-ready');
    await notice.waitFor({ timeout: 5000 });
    expect(await notice.textContent()).toContain('Your recording is ready');
    expect(await notice.getByRole('link').getAttribute('href')).toBe(`/recordings/${id}`);
    await shot(host, 'recordings-ready-notice');

    await host.reload();
    const cards = host.getByTestId('recording-card');
    await expect.poll(() => cards.count()).toBe(8);
    const card = cards.first();
    expect(await card.getByRole('heading').textContent()).toBe('Recorded <b>episode</b> one');
    // The word is visually hidden: seen as 0:06 (the build runs the two words together: "Duration0:06").
    expect(await card.locator('.length').textContent()).toMatch(/^Duration\s*0:06$/);
    await expect.poll(() => card.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(1280);
    expect(await cards.filter({ hasText: 'Older episode 8' }).locator('.length', { hasText: /^Duration\s*1:02:05$/ }).count()).toBe(1);
    await host.getByRole('link', { name: 'Load more' }).click();
    await expect.poll(() => cards.count()).toBe(9);
    expect(await host.getByRole('link', { name: 'Load more' }).count()).toBe(0);
    await host.evaluate(() => window.scrollTo(0, 0));
    await shot(host, 'recordings-profile');

    // Plays with hls.js: two levels in the quality menu, a switch to 360p, a seek to 4 s.
    await host.goto(`/recordings/${id}`);
    expect(await host.getByRole('heading', { level: 1 }).textContent()).toBe('Recorded <b>episode</b> one');
    await expect.poll(async () => (await hls(host))?.levels.length ?? 0, { timeout: 10_000 }).toBe(2);
    const quality = host.getByLabel('Quality');
    expect(await quality.locator('option').allTextContents()).toEqual(['Auto', '720p', '360p']);
    await play(host);
    await expect.poll(() => currentTime(host), { timeout: 10_000 }).toBeGreaterThan(1);
    await quality.selectOption({ label: '360p' });
    const low = (await hls(host))!.levels.indexOf(360);
    await expect.poll(async () => (await hls(host))?.currentLevel, { timeout: 10_000 }).toBe(low);
    await host.locator('video').evaluate((v: HTMLVideoElement) => (v.currentTime = 4));
    await expect.poll(() => currentTime(host), { timeout: 10_000 }).toBeGreaterThan(4.3);
    expect(await host.locator('.frame [role="alert"]').count()).toBe(0);
    await host.locator('video').evaluate((v: HTMLVideoElement) => v.pause());
    await shot(host, 'recordings-page');

    // The owner's plays are not views; a visitor's first play is, once (a reload does not add one).
    expect(await host.getByTestId('views').textContent()).toBe('0 views');
    const visitor = await browser.newPage();
    for (let visit = 0; visit < 2; visit++) {
      await visitor.goto(`/recordings/${id}`);
      await play(visitor);
      await expect.poll(() => visitor.getByTestId('views').textContent(), { timeout: 10_000 }).toBe('1 view');
    }
    await visitor.close();
    await host.reload();
    expect(await host.getByTestId('views').textContent()).toBe('1 view');

    // Renamed inline.
    await host.getByRole('button', { name: 'Rename' }).click();
    await host.getByLabel('Title').fill('A better title');
    await host.getByRole('button', { name: 'Save' }).click();
    await host.getByRole('heading', { name: 'A better title' }).waitFor();
    await host.reload();
    expect(await host.getByRole('heading', { level: 1 }).textContent()).toBe('A better title');

    // Made private: the player loads it again (signed links now) where it was; the signed-out are told it is not available.
    await play(host);
    await expect.poll(() => currentTime(host), { timeout: 10_000 }).toBeGreaterThan(1);
    const pausedAt = await host.locator('video').evaluate((v: HTMLVideoElement) => (v.pause(), v.currentTime));
    await host.getByRole('button', { name: 'Private', exact: true }).click();
    await expect.poll(() => host.getByRole('button', { name: 'Private', exact: true }).getAttribute('aria-pressed')).toBe('true');
    await expect.poll(() => host.evaluate(() => (window as PodliveTestHooks).podliveHls?.url ?? ''), { timeout: 10_000 }).toContain('/hls/');
    await expect.poll(() => host.locator('video').evaluate((v: HTMLVideoElement) => (v.readyState >= 2 ? v.currentTime : -1)), { timeout: 10_000 }).toBeCloseTo(pausedAt, 1);
    await play(host);
    await expect.poll(() => currentTime(host), { timeout: 10_000 }).toBeGreaterThan(pausedAt + 0.5);
    expect(await host.locator('.frame [role="alert"]').count()).toBe(0);
    const stranger = await browser.newPage();
    await stranger.goto(`/recordings/${id}`);
    expect(await stranger.getByRole('heading', { level: 1 }).textContent()).toBe('Recording not available');
    expect(await stranger.getByText('This recording is not available').count()).toBe(1);

    // Deleted after confirming: back on the profile, gone from it.
    await host.getByRole('button', { name: 'Delete', exact: true }).click();
    await host.getByRole('dialog').getByRole('button', { name: 'Delete recording' }).click();
    await host.waitForURL(`**/@${HANDLE}`);
    await expect.poll(() => host.getByTestId('recording-card').count()).toBe(8);
    expect(await host.getByText('A better title').count()).toBe(0);
    expect(await statusOf(`/recordings/${id}`)).toBe(404);
  });
});
