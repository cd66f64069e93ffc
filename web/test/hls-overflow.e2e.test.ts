import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { transformWithEsbuild } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_HLS_CACHE_CONTROL, recordingKeys } from '@podlive/shared/recording';
import { percentile } from '../src/lib/media/clock-code';
import { openBrowser, type BrowserHarness } from './browser';
import { useClockCamera } from './recording-clock';
import { signIn, startStack, type Stack } from './stack';
import { goLiveFromStudio } from './studio';

const CLOCK_CODE = fileURLToPath(new URL('../src/lib/media/clock-code.ts', import.meta.url));
const LOAD_CLI = fileURLToPath(new URL('../../sfu/load/podlive-load.mjs', import.meta.url));

type ClockWindow = { podliveDelivery?: 'webrtc' | 'hls' | null; podliveClocks?: number[] };

/**
 * Reads the host's clock (painted into every frame by useClockCamera) from each frame the page's
 * <video> presents, whatever plays into it (WebRTC or HLS): `window.podliveClocks` collects
 * now − the painted time, in ms (glass-to-glass on one machine, one clock).
 */
async function readPresentedClocks(page: Page): Promise<void> {
  const module = await transformWithEsbuild(await readFile(CLOCK_CODE, 'utf8'), CLOCK_CODE, { format: 'iife', globalName: 'podliveClockCode' });
  await page.addInitScript(`${module.code}
(() => {
  const { readClock } = podliveClockCode;
  window.podliveClocks = [];
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const hooked = new WeakSet();
  const onFrame = (video) => () => {
    if (video.videoWidth > 0) {
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      const value = readClock(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height);
      if (value !== null) window.podliveClocks.push(Date.now() - value);
    }
    video.requestVideoFrameCallback(onFrame(video));
  };
  setInterval(() => {
    for (const video of document.querySelectorAll('video')) {
      if (hooked.has(video)) continue;
      hooked.add(video);
      video.requestVideoFrameCallback(onFrame(video));
    }
  }, 50);
})();`);
}

/** Waits for `count` clock readings taken from now on; returns them. */
async function clocksFromNow(page: Page, count: number, timeoutMs: number): Promise<number[]> {
  const from = await page.evaluate(() => (window as ClockWindow).podliveClocks!.length);
  await page.waitForFunction(([start, n]) => (window as ClockWindow).podliveClocks!.length >= start! + n!, [from, count], { timeout: timeoutMs, polling: 250 });
  return page.evaluate((start) => (window as ClockWindow).podliveClocks!.slice(start), from);
}

const delivery = (page: Page) => page.evaluate(() => (window as ClockWindow).podliveDelivery ?? null);

/**
 * Past the live's WebRTC cap, the viewer page plays the live's low-latency HLS (the recorder's
 * 1 s segments) in Chromium, says so, and moves back to WebRTC by itself when a slot frees.
 */
describe('a live past its WebRTC cap (LIVE_WEBRTC_CAP=2)', () => {
  let stack: Stack;
  let browser: BrowserHarness;

  beforeAll(async () => {
    [stack, browser] = await Promise.all([
      startStack({ media: true, recorder: {}, serverEnv: { LIVE_WEBRTC_CAP: '2' } }),
      openBrowser(() => stack.url),
    ]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('viewers 1–2 get WebRTC, viewer 3 plays HLS (latency printed, p95 < 5 s) and moves back to WebRTC within 10 s of a slot freeing', { timeout: 240_000 }, async () => {
    const host = await browser.newPage();
    await useClockCamera(host);
    await signIn(stack, host, { handle: 'hls_host', displayName: 'HLS Host', path: '/studio' });
    const id = await goLiveFromStudio(host, 'A very popular live');

    const viewer = async (n: number, clocks = false) => {
      const page = await browser.newPage({ forwardedFor: `198.51.100.${n}` });
      if (clocks) await readPresentedClocks(page);
      await page.goto(`/live/${id}`);
      return page;
    };
    // Viewers 1–2 only hold the WebRTC slots: listening only, they decode no video (this 2-core
    // machine also runs the host's Chromium, the node, the recorder's FFmpegs and viewer 3).
    const slotHolder = async (n: number) => {
      const page = await viewer(n);
      await expect.poll(() => delivery(page), { timeout: 30_000, interval: 250 }).toBe('webrtc');
      await page.getByRole('button', { name: 'Listen only' }).click();
      return page;
    };
    const first = await slotHolder(1);
    const second = await slotHolder(2);

    const third = await viewer(3, true);
    await expect.poll(() => delivery(third), { timeout: 30_000, interval: 250 }).toBe('hls');
    await third.getByText('Watching with a few seconds of delay').waitFor({ timeout: 10_000 });
    // Decoding frames from HLS: the clock read back from them.
    const onHls = await clocksFromNow(third, 60, 60_000);
    const hlsP50 = percentile(onHls, 50);
    const hlsP95 = percentile(onHls, 95);
    const playlist = await (await fetch(`${stack.url}/api/media/${recordingKeys(id).llPlaylist('r0')}`)).text();
    const hlsJs = await third.evaluate(() => {
      const hls = (window as { podliveHls?: { latency?: number; targetLatency?: number | null } }).podliveHls;
      return { latency: hls?.latency, target: hls?.targetLatency };
    });
    console.log(`glass-to-glass on the live HLS (1 s segments, this machine): n=${onHls.length} p50=${hlsP50} ms p95=${hlsP95} ms; hls.js behind its live edge ${hlsJs.latency?.toFixed(2)} s (target ${hlsJs.target}); segments listed: ${(playlist.match(/^#EXTINF:[\d.]+/gm) ?? []).map((l) => l.slice(8)).join(' ')} s`);
    expect(hlsP50).toBeGreaterThan(0);
    expect(hlsP95).toBeLessThan(5000);
    expect(await delivery(third)).toBe('hls');

    // A slot frees: viewer 3 moves back to WebRTC by itself, and its latency falls under a second.
    await first.close();
    const freedAt = Date.now();
    await expect.poll(() => delivery(third), { timeout: 10_000, interval: 100 }).toBe('webrtc');
    const movedMs = Date.now() - freedAt;
    await third.getByText('Watching with a few seconds of delay').waitFor({ state: 'hidden', timeout: 5000 });
    const onWebRtc = await clocksFromNow(third, 30, 30_000);
    console.log(`moved back to WebRTC ${movedMs} ms after a slot freed; glass-to-glass then p50=${percentile(onWebRtc, 50)} ms p95=${percentile(onWebRtc, 95)} ms`);
    expect(movedMs).toBeLessThan(10_000);
    expect(percentile(onWebRtc, 50)).toBeLessThan(1000);
    expect(browser.cspViolations).toEqual([]);
    // This live's Chromium host and viewers would otherwise load the machine for the tests after.
    for (const page of [host, second, third]) await page.close();
  });

  it('serves the live HLS with cache headers: segments immutable under names never reused, playlists for a second', { timeout: 120_000 }, async () => {
    const host = await browser.newPage();
    await signIn(stack, host, { handle: 'hls_cache', displayName: 'Cache Host', path: '/studio' });
    const id = await goLiveFromStudio(host, 'Cacheable');
    const keys = recordingKeys(id);
    const url = (key: string) => `${stack.url}/api/media/${key}`;
    let playlist = '';
    await expect.poll(async () => {
      const response = await fetch(url(keys.llPlaylist('r0')));
      playlist = response.ok ? await response.text() : '';
      return (playlist.match(/\.m4s$/gm) ?? []).length;
    }, { timeout: 40_000, interval: 500 }).toBeGreaterThanOrEqual(3);
    const master = await fetch(url(keys.llMaster));
    expect(master.status).toBe(200);
    expect(master.headers.get('cache-control')).toBe(LIVE_HLS_CACHE_CONTROL.playlist);
    expect(master.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const media = await fetch(url(keys.llPlaylist('r0')));
    expect(media.headers.get('cache-control')).toBe(LIVE_HLS_CACHE_CONTROL.playlist);

    const segment = /^(.+\.m4s)$/m.exec(playlist)![1]!;
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
    const base = url(`${keys.root}/ll/r0/`);
    const first = await fetch(base + segment);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe(LIVE_HLS_CACHE_CONTROL.immutable);
    expect(first.headers.get('content-type')).toBe('video/iso.segment');
    const initResponse = await fetch(base + init);
    expect(initResponse.headers.get('cache-control')).toBe(LIVE_HLS_CACHE_CONTROL.immutable);
    const bytes = Buffer.from(await first.arrayBuffer());

    // Later, after the window moved on: the same URL, the same bytes.
    await expect.poll(async () => (await (await fetch(url(keys.llPlaylist('r0')))).text()).includes(segment), { timeout: 30_000, interval: 500 }).toBe(false);
    const again = await fetch(base + segment);
    expect(again.status).toBe(200);
    expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
    await host.close();
  });

  it('podlive-load --publish --hls: one command makes a live with a synthetic host, and headless players load its HLS from the real recorder', { timeout: 180_000 }, async () => {
    const email = 'loadhost@example.com';
    const password = 'correct horse battery staple';
    const post = (path: string, body: unknown) => fetch(`${stack.url}/api/auth/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('register', { email, password, handle: 'loadhost', displayName: 'Load Host' })).status).toBe(202);
    expect((await post('verify-otp', { email, code: await stack.latestCode(email), purpose: 'verify_email' })).ok).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'podlive-load-hls-'));
    try {
      const json = join(dir, 'report.json');
      // Its exit code is its own verdict (1 when a player is not playing at the very end, as on a
      // loaded machine): the report is what is checked here.
      const run = await promisify(execFile)(process.execPath, [
        LOAD_CLI, '--url', stack.url, '--publish', '--email', email, '--title', 'Load test', '--hls', '--viewers', '3', '--rate', '3', '--duration', '10', '--json', json, '--no-progress',
      ], { env: { ...process.env, PODLIVE_PASSWORD: password }, timeout: 150_000 }).then(() => 'exit 0', (err: { code?: number; stderr?: string }) => `exit ${err.code}: ${err.stderr ?? ''}`);
      const report = JSON.parse(await readFile(json, 'utf8').catch(() => { throw new Error(`no report from podlive-load (${run})`); })) as {
        config: { playlist: string };
        players: { started: number; failed: number };
        requests: { segments: number; inits: number };
        latencyMs: { p50: number; p95: number };
        stalls: { count: number; totalMs: number };
        errors: { reason: string }[];
      };
      console.log(`podlive-load --publish --hls, 3 players, 10 s (${run.split('\n')[0]}): ${JSON.stringify({ requests: report.requests, latencyMs: report.latencyMs, stalls: report.stalls, errors: report.errors })}`);
      expect(report.config.playlist).toMatch(/\/api\/media\/recordings\/[0-9a-f-]{36}\/ll\/master\.m3u8$/);
      expect(report.players).toMatchObject({ started: 3, failed: 0 });
      expect(report.requests.inits).toBeGreaterThanOrEqual(3);
      // The synthetic host replays a clip with a key frame every 2 s (it cannot make one when asked),
      // so its segments last 2 s: ten seconds are at least 4 new segments per player.
      expect(report.requests.segments).toBeGreaterThanOrEqual(3 * 4);
      // Players mostly play (the report counts the stalls, and how long).
      expect(report.stalls.totalMs).toBeLessThan(3 * 3000);
      expect(report.latencyMs.p50).toBeGreaterThan(0);
      expect(report.latencyMs.p95).toBeLessThan(10_000);
      expect(report.errors).toEqual([]);
      const live = /recordings\/([0-9a-f-]{36})\//.exec(report.config.playlist)![1]!;
      expect(((await (await fetch(`${stack.url}/api/live/${live}`)).json()) as { status: string }).status, 'the live ended with the run').toBe('ended');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a viewer watching the HLS is called onto the stage by handle: they answer, their page moves to WebRTC, and they are on stage', { timeout: 180_000 }, async () => {
    const host = await browser.newPage();
    await signIn(stack, host, { handle: 'hls_stage_host', displayName: 'Stage Host', path: '/studio' });
    const id = await goLiveFromStudio(host, 'Calling the audience');
    // Two viewers fill the cap; the third, signed in, watches the HLS.
    const fillers = await Promise.all([1, 2].map(async (n) => {
      const page = await browser.newPage({ forwardedFor: `198.51.100.${20 + n}` });
      await page.goto(`/live/${id}`);
      await expect.poll(() => delivery(page), { timeout: 30_000, interval: 250 }).toBe('webrtc');
      return page;
    }));
    const caller = await browser.newPage({ forwardedFor: '198.51.100.30' });
    await signIn(stack, caller, { handle: 'hls_callee', displayName: 'Called From HLS', path: `/live/${id}` });
    await expect.poll(() => delivery(caller), { timeout: 30_000, interval: 250 }).toBe('hls');

    const panel = host.getByRole('region', { name: 'Invite to stage' });
    await panel.getByLabel('Handle').fill('hls_callee');
    await panel.getByRole('button', { name: 'Invite', exact: true }).click();
    const dialog = caller.getByRole('dialog', { name: 'Stage invite' });
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await caller.getByRole('region', { name: "You're on stage" }).waitFor({ timeout: 30_000 });
    expect(await delivery(caller)).toBe('webrtc');
    // The viewers on WebRTC receive the guest: a third and fourth consumer (mic and camera).
    await expect.poll(() => fillers[0]!.evaluate(async () => {
      const media = (window as { podliveMedia?: { consumerStats(): Promise<unknown[]> } }).podliveMedia;
      return (await media?.consumerStats())?.length ?? 0;
    }), { timeout: 20_000, interval: 250 }).toBeGreaterThanOrEqual(3);
    for (const page of [host, caller, ...fillers]) await page.close();
  });
});
