import { beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Peer } from '@podlive/sfu/Peer';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { signIn } from './stack';
import { useStackAndBrowser } from './e2e-suite';
import { goLiveFromStudio } from './studio';

/** Where screenshots go (looked at by hand): /tmp by default. */
const SHOTS = process.env.PODLIVE_SCREENSHOTS ?? '/tmp';

type TestWindow = {
  podliveMedia?: { inboundStats(): Promise<InboundStats> };
  podliveFrames?: { count: number; maxGapMs: number; reset(): void };
  podliveNode?: string | null;
  oldMedia?: unknown;
  sawText?: string[];
};

/**
 * What the viewer page and the studio do when a node goes (killed, draining, the origin lost), on
 * one real node: the node's side is played by the test (a dropped socket, a moveNode or originLost
 * notification). The fleet's own test checks the same across real nodes.
 */
describe('node loss, draining and origin loss, as the pages handle them (one node)', () => {
  const e2e = useStackAndBrowser({ media: true });
  let host: Page;
  let id: string;

  beforeAll(async () => {
    host = await e2e.browser.newPage();
    await signIn(e2e.stack, host, { handle: 'fleet_host', displayName: 'Fleet Host', path: '/studio' });
  });

  const room = () => e2e.stack.node!.rooms.get(id)!;
  const peers = (role: string) => [...room().peers.values()].filter((p) => p.claims.role === role);
  /** What a killed node looks like to a browser: the socket just goes (no close frame). */
  const dropSocket = (peer: Peer) => (peer.protoo as unknown as { _transport: { _connection: { socket: { destroy(): void } } } })._transport._connection.socket.destroy();
  const frames = (page: Page) => page.evaluate(() => ({ ...(window as TestWindow).podliveFrames! }));
  const framesGrow = async (page: Page, by = 15) => {
    const start = (await frames(page)).count;
    await expect.poll(async () => (await frames(page)).count, { timeout: 10_000, interval: 50 }).toBeGreaterThan(start + by);
  };
  /** Remembers the session playing now, and every status text the page shows from now on. */
  const mark = (page: Page) =>
    page.evaluate(() => {
      const w = window as TestWindow;
      w.oldMedia = w.podliveMedia;
      w.podliveFrames!.reset();
      w.sawText = [];
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[role="status"]')) w.sawText!.push(el.textContent ?? '');
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
  const replaced = (page: Page) => page.evaluate(() => (window as TestWindow).podliveMedia !== (window as TestWindow).oldMedia);
  const saw = (page: Page) => page.evaluate(() => (window as TestWindow).sawText!.join(' | '));

  /** The viewer page's token requests (their query), by page. */
  const tokenQueries = new Map<Page, string[]>();

  async function watching(): Promise<Page> {
    const viewer = await e2e.browser.newPage();
    const queries: string[] = [];
    tokenQueries.set(viewer, queries);
    // Until the control plane names the node in MediaJoin, name it here (the stack's node is "local").
    await viewer.route('**/api/live/*/token*', async (route) => {
      queries.push(new URL(route.request().url()).search);
      const response = await route.fetch();
      const join = (await response.json()) as { node?: string };
      await route.fulfill({ response, json: { ...join, node: join.node ?? 'local' } });
    });
    await viewer.goto(`/live/${id}`);
    await expect.poll(async () => (await viewer.evaluate(() => (window as TestWindow).podliveMedia?.inboundStats()))?.video.framesDecoded ?? 0, { timeout: 20_000 }).toBeGreaterThan(10);
    await framesGrow(viewer);
    return viewer;
  }

  it('the host goes live', async () => {
    id = await goLiveFromStudio(host, 'Nodes come and go');
    expect(await host.evaluate(() => (window as TestWindow).podliveMedia !== undefined)).toBe(true);
  });

  it('a viewer whose node dies is playing again within 5 s, on a new connection, with no reload', async () => {
    const viewer = await watching();
    const navigations: string[] = [];
    viewer.on('framenavigated', (f) => navigations.push(f.url()));
    await mark(viewer);
    const [peer] = peers('viewer');
    const killed = Date.now();
    dropSocket(peer!);
    await expect.poll(() => replaced(viewer), { timeout: 5000, interval: 50 }).toBe(true);
    await framesGrow(viewer, 5);
    const back = Date.now() - killed;
    const { maxGapMs } = await frames(viewer);
    console.info(`viewer playing again ${back} ms after its node's socket died; longest frame gap ${Math.round(maxGapMs)} ms`);
    expect(back).toBeLessThan(5000);
    expect(maxGapMs).toBeLessThan(5000);
    expect(await saw(viewer)).toContain('Reconnecting');
    expect(navigations).toEqual([]);
    expect(room().peers.has(peer!.id)).toBe(false);
    // The new token was asked for elsewhere than the lost node.
    expect(tokenQueries.get(viewer)).toEqual(['', '?exclude=local']);
    expect(await viewer.evaluate(() => (window as TestWindow).podliveNode)).toBe('local');
    await viewer.close();
  });

  it('a viewer asked to move (draining node) moves make-before-break: no cover, no gap over 2 s', async () => {
    const viewer = await watching();
    await mark(viewer);
    const [old] = peers('viewer');
    old!.notify('moveNode', { reason: 'draining' });
    await expect.poll(() => replaced(viewer), { timeout: 8000, interval: 50 }).toBe(true);
    // The old connection goes once the new one plays.
    await expect.poll(() => room().peers.has(old!.id), { timeout: 3000 }).toBe(false);
    await framesGrow(viewer);
    const { maxGapMs } = await frames(viewer);
    console.info(`move to a new connection: longest frame gap ${Math.round(maxGapMs)} ms`);
    expect(maxGapMs).toBeLessThan(2000);
    expect(await saw(viewer)).not.toMatch(/Reconnecting|Connecting|Waiting/);
    expect(peers('viewer')).toHaveLength(1);
    expect(tokenQueries.get(viewer)).toEqual(['', '?exclude=local']);
    await viewer.close();
  });

  it('origin lost: viewers are told and wait; the studio resumes by itself and they play again', async () => {
    const viewer = await watching();
    await mark(viewer);
    // Hold the studio's resume a moment, so the waiting state can be seen.
    let starts = 0;
    await host.route('**/api/live/*/start', async (route) => {
      starts++;
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    const [hostPeer] = peers('host');
    const lost = Date.now();
    dropSocket(hostPeer!);
    for (const v of peers('viewer')) v.notify('originLost', {});
    await viewer.getByText("The host's connection dropped").waitFor({ timeout: 3000 });
    await host.getByText('Reconnecting…').waitFor({ timeout: 3000 });
    await viewer.screenshot({ path: `${SHOTS}/live-host-away.png` });
    await host.screenshot({ path: `${SHOTS}/studio-reconnecting.png` });
    await viewer.getByText("The host's connection dropped").waitFor({ state: 'detached', timeout: 10_000 });
    await framesGrow(viewer);
    console.info(`viewer playing the resumed host ${Date.now() - lost} ms after the origin went (the resume was held 1.5 s)`);
    expect(starts).toBe(1);
    expect(await host.getByText('Reconnecting…').count()).toBe(0);
    expect(peers('host')).toHaveLength(1);
    expect(peers('host')[0]!.producers.size).toBe(2);
    await host.unroute('**/api/live/*/start');
    await viewer.close();
  });

  it('a resume the control plane refuses shows the error and Retry; Retry restores the live, still muted', async () => {
    await host.getByRole('button', { name: 'Mute mic' }).click();
    await host.getByRole('button', { name: 'Unmute mic' }).waitFor();
    await host.route('**/api/live/*/start', (route) => route.fulfill({ status: 403, contentType: 'application/json', body: JSON.stringify({ error: { code: 'NOT_HOST', message: 'Not allowed right now' } }) }));
    dropSocket(peers('host')[0]!);
    const alert = host.getByRole('alert').filter({ hasText: 'could not be restored' });
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toContain('Not allowed right now');
    await host.screenshot({ path: `${SHOTS}/studio-resume-failed.png` });
    await host.unroute('**/api/live/*/start');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await alert.waitFor({ state: 'detached', timeout: 5000 });
    await expect.poll(() => peers('host')[0]?.producers.size ?? 0, { timeout: 10_000 }).toBe(2);
    // The host's mute outlives the connection: the new microphone producer is paused.
    const producers = () => [...peers('host')[0]!.producers.values()];
    await expect.poll(() => producers().find((p) => p.kind === 'audio')?.paused, { timeout: 3000 }).toBe(true);
    expect(producers().find((p) => p.kind === 'video')?.paused).toBe(false);
    await host.getByRole('button', { name: 'Unmute mic' }).click();
    await expect.poll(() => producers().find((p) => p.kind === 'audio')?.paused, { timeout: 3000 }).toBe(false);
    const viewer = await watching();
    await viewer.close();
  });
});
