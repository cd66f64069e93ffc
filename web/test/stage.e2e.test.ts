import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import type { ConsumerStats, InboundStats } from '../src/lib/media/MediaSession';
import { signIn } from './stack';
import { goLiveFromStudio } from './studio';
import { useStackAndBrowser } from './e2e-suite';

/** Where screenshots go (looked at by hand): /tmp by default. */
const SHOTS = process.env.PODLIVE_SCREENSHOTS ?? '/tmp';
/** Invites ring this long in this stack (short, so the expiry test is quick). */
const INVITE_TTL_MS = 5000;

type MediaWindow = {
  podliveMedia?: { inboundStats(): Promise<InboundStats>; consumerStats(): Promise<ConsumerStats[]>; producers: Map<string, unknown> };
  dialogShownAt?: number;
  stageMedia?: unknown;
};

describe('calling a viewer onto the stage (control plane + a real SFU node)', () => {
  const e2e = useStackAndBrowser({ media: true, serverEnv: { STAGE_INVITE_TTL_MS: String(INVITE_TTL_MS) } });

  const newContext = () => e2e.browser.newContext();
  const newPage = (context?: BrowserContext) => e2e.browser.newPage({ context });

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });

  const signedIn = (page: Page, handle: string, path: string) =>
    signIn(e2e.stack, page, { handle, displayName: `${handle[0]!.toUpperCase()}${handle.slice(1).replace(/_/g, ' ')}`, path });

  const stats = async (page: Page) => (await page.evaluate(() => (window as MediaWindow).podliveMedia?.inboundStats() ?? null))!;
  const consumers = (page: Page) => page.evaluate(() => (window as MediaWindow).podliveMedia?.consumerStats() ?? Promise.resolve([] as ConsumerStats[]));
  const of = async (page: Page, userId: string, kind: 'audio' | 'video') => (await consumers(page)).find((c) => c.userId === userId && c.kind === kind);
  const decodes = async (page: Page) => {
    await expect.poll(async () => (await stats(page))?.video.framesDecoded ?? 0, { timeout: 20_000 }).toBeGreaterThan(10);
    await expect.poll(async () => (await stats(page))?.audio.packetsReceived ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
  };
  /** Records (in the page) when a dialog first shows. */
  const watchForDialog = (page: Page) =>
    page.evaluate(() => {
      const w = window as MediaWindow;
      delete w.dialogShownAt;
      const seen = () => {
        if (w.dialogShownAt === undefined && document.querySelector('[role="dialog"]')) w.dialogShownAt = Date.now();
      };
      new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
    });
  const panel = (host: Page) => host.getByRole('region', { name: 'Invite to stage' });
  async function invite(host: Page, handle: string) {
    await panel(host).getByLabel('Handle').fill(handle);
    await panel(host).getByRole('button', { name: 'Invite', exact: true }).click();
  }
  const callOutcome = (host: Page, handle: string) => panel(host).getByTestId('stage-call').filter({ hasText: `@${handle}` }).first().getByRole('status');

  let host: Page;
  let hostId: string;
  let sessionId: string;
  let guestId: string;
  let guest: Page;
  let viewers: Page[];

  it('host invites a watching viewer by handle; they accept; everyone hears them; mute; remove', { timeout: 180_000 }, async () => {
    host = await newPage();
    hostId = await signedIn(host, 'stage_host', '/studio');
    sessionId = await goLiveFromStudio(host, 'Stage night');

    guest = await newPage();
    guestId = await signedIn(guest, 'stage_guest', `/live/${sessionId}`);
    viewers = await Promise.all([newPage(), newPage()]);
    await Promise.all(viewers.map((v) => v.goto(`/live/${sessionId}`)));
    await Promise.all([guest, ...viewers].map(decodes));

    // Suggestions: people watching first, marked so.
    await panel(host).getByLabel('Handle').fill('stage_g');
    const suggestion = panel(host).getByRole('list', { name: 'Suggestions' }).getByRole('button').filter({ hasText: '@stage_guest' });
    await suggestion.waitFor({ timeout: 3000 });
    expect(await suggestion.textContent()).toContain('watching');

    // The call: the invitee's page shows it (host name) soon after the invite request. The bound is
    // generous for a loaded 2-core CI machine (a first invite here took 0.5–1.3 s when it went
    // through a relay of the web app); the real figure is the stage benchmark's (npm run bench).
    await watchForDialog(guest);
    const sent = host.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/stage/invite');
    await invite(host, 'stage_guest');
    const request = await sent;
    const dialog = guest.getByRole('dialog', { name: 'Stage invite' });
    await dialog.waitFor({ timeout: 3000 });
    expect(await dialog.textContent()).toContain('Stage host');
    expect(await dialog.textContent()).toContain('invites you to the stage');
    expect(await dialog.textContent()).toContain('Stage night');
    const shownAt = await guest.evaluate(() => (window as MediaWindow).dialogShownAt ?? 0);
    const timing = request.timing();
    const latency = shownAt - timing.startTime;
    console.info(`invite modal shown ${latency} ms after the host's invite request started (its answer came ${Math.round(timing.responseEnd)} ms after the start)`);
    expect(latency).toBeLessThan(3000);
    expect(await callOutcome(host, 'stage_guest').textContent()).toMatch(/Ringing/);
    await shot(guest, 'stage-incoming-call');

    // Accept with the camera on: the two viewers now consume host + guest, audio and video.
    expect(await dialog.getByRole('checkbox', { name: 'Also turn on camera' }).isChecked()).toBe(true);
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await guest.getByRole('region', { name: "You're on stage" }).waitFor({ timeout: 15_000 });
    await expect.poll(() => callOutcome(host, 'stage_guest').textContent(), { timeout: 3000 }).toMatch(/accepted/i);
    for (const v of viewers) {
      await expect.poll(async () => (await consumers(v)).length, { timeout: 15_000 }).toBe(4);
      await expect.poll(async () => (await of(v, guestId, 'audio'))?.packetsReceived ?? 0, { timeout: 15_000 }).toBeGreaterThan(20);
      await expect.poll(async () => (await of(v, guestId, 'video'))?.framesDecoded ?? 0, { timeout: 15_000 }).toBeGreaterThan(10);
    }
    // Still decoding the host while on stage (no reload).
    const hostFrames = (await of(guest, hostId, 'video'))?.framesDecoded ?? 0;
    await expect.poll(async () => (await of(guest, hostId, 'video'))?.framesDecoded ?? 0, { timeout: 10_000 }).toBeGreaterThan(hostFrames + 10);
    // Everyone's stage strip lists the guest.
    for (const page of [host, ...viewers]) await page.getByTestId('stage-guest').filter({ hasText: 'Stage guest' }).waitFor({ timeout: 5000 });
    await shot(host, 'stage-studio-guest');
    await viewers[0]!.getByTestId('stage-guest').scrollIntoViewIfNeeded();
    await shot(viewers[0]!, 'stage-viewer-strip');
    await guest.getByRole('region', { name: "You're on stage" }).scrollIntoViewIfNeeded();
    await shot(guest, 'stage-guest-on-stage');

    // A draining node's moveNode is for plain viewers: a guest on stage stays on its node.
    const guestPeers = () => [...e2e.stack.node!.rooms.get(sessionId)!.peers.values()].filter((p) => p.claims.sub === guestId);
    await guest.evaluate(() => ((window as MediaWindow).stageMedia = (window as MediaWindow).podliveMedia));
    guestPeers()[0]!.notify('moveNode', { reason: 'draining' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(guestPeers()).toHaveLength(1);
    expect(await guest.evaluate(() => (window as MediaWindow).podliveMedia === (window as MediaWindow).stageMedia)).toBe(true);

    // Mute: the viewers stop receiving the guest's audio; the guest's toggles are held.
    const row = host.getByTestId('stage-guest').filter({ hasText: 'Stage guest' });
    await row.getByRole('button', { name: 'Mute', exact: true }).click();
    await row.getByRole('button', { name: 'Unmute', exact: true }).waitFor({ timeout: 3000 });
    await guest.getByText('The host muted you').waitFor({ timeout: 3000 });
    expect(await guest.getByRole('button', { name: 'Mute mic' }).isDisabled()).toBe(true);
    await viewers[0]!.getByTestId('stage-guest').filter({ hasText: 'Muted' }).waitFor({ timeout: 3000 });
    await new Promise((r) => setTimeout(r, 1000));
    const before = await Promise.all(viewers.map(async (v) => (await of(v, guestId, 'audio'))?.packetsReceived ?? 0));
    await new Promise((r) => setTimeout(r, 2000));
    const after = await Promise.all(viewers.map(async (v) => (await of(v, guestId, 'audio'))?.packetsReceived ?? 0));
    console.info(`guest audio packets at the viewers over 2 s while muted: ${before.map((b, i) => after[i]! - b).join(', ')}`);
    for (const [i, b] of before.entries()) expect(after[i]! - b).toBeLessThan(5);

    // Remove: the guest is a plain viewer again, still watching the host.
    await row.getByRole('button', { name: 'Remove', exact: true }).click();
    await guest.getByText('The host removed you from the stage').waitFor({ timeout: 5000 });
    expect(await guest.getByRole('region', { name: "You're on stage" }).count()).toBe(0);
    // A plain viewer again: the move put off while on stage happens now.
    await expect.poll(() => guest.evaluate(() => (window as MediaWindow).podliveMedia !== (window as MediaWindow).stageMedia), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => guestPeers().length, { timeout: 5000 }).toBe(1);
    expect(await guest.evaluate(() => (window as MediaWindow).podliveMedia?.producers.size)).toBe(0);
    const frames = (await stats(guest)).video.framesDecoded;
    await expect.poll(async () => (await stats(guest)).video.framesDecoded, { timeout: 10_000 }).toBeGreaterThan(frames + 10);
    for (const v of viewers) await expect.poll(async () => (await consumers(v)).length, { timeout: 5000 }).toBe(2);
    await row.waitFor({ state: 'detached', timeout: 3000 });
  });

  it('declining: the host sees "declined"', { timeout: 30_000 }, async () => {
    await invite(host, 'stage_guest');
    const dialog = guest.getByRole('dialog', { name: 'Stage invite' });
    await dialog.waitFor({ timeout: 3000 });
    await dialog.getByRole('button', { name: 'Decline' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 2000 });
    await expect.poll(() => callOutcome(host, 'stage_guest').textContent(), { timeout: 3000 }).toMatch(/declined/i);
  });

  it('an unanswered invite expires on both sides', { timeout: 30_000 }, async () => {
    await invite(host, 'stage_guest');
    const dialog = guest.getByRole('dialog', { name: 'Stage invite' });
    await dialog.waitFor({ timeout: 3000 });
    await dialog.waitFor({ state: 'detached', timeout: INVITE_TTL_MS + 3000 });
    await guest.getByText('The stage invite expired.').waitFor({ timeout: 2000 });
    await expect.poll(() => callOutcome(host, 'stage_guest').textContent(), { timeout: 3000 }).toMatch(/expired/i);
  });

  it("answering in a second tab closes the first tab's call screen", { timeout: 30_000 }, async () => {
    const second = await newPage(guest.context());
    await second.goto(`/live/${sessionId}`);
    await decodes(second);
    await invite(host, 'stage_guest');
    const first = guest.getByRole('dialog', { name: 'Stage invite' });
    const other = second.getByRole('dialog', { name: 'Stage invite' });
    await Promise.all([first.waitFor({ timeout: 3000 }), other.waitFor({ timeout: 3000 })]);
    await other.getByRole('button', { name: 'Decline' }).click();
    await first.waitFor({ state: 'detached', timeout: 2000 });
    await expect.poll(() => callOutcome(host, 'stage_guest').textContent(), { timeout: 3000 }).toMatch(/declined/i);
    await second.close();
  });

  it('the browser refusing the microphone: the guest leaves at once, the host sees "permission denied"', { timeout: 60_000 }, async () => {
    const context = await newContext();
    await context.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
    });
    const denied = await newPage(context);
    const deniedId = await signedIn(denied, 'stage_shy', `/live/${sessionId}`);
    await decodes(denied);
    await invite(host, 'stage_shy');
    const dialog = denied.getByRole('dialog', { name: 'Stage invite' });
    await dialog.waitFor({ timeout: 3000 });
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await denied.getByText('did not let PodLive use your microphone').waitFor({ timeout: 5000 });
    expect(await dialog.count()).toBe(0);
    expect(await denied.evaluate(() => (window as MediaWindow).podliveMedia?.producers.size)).toBe(0);
    await expect.poll(() => callOutcome(host, 'stage_shy').textContent(), { timeout: 3000 }).toMatch(/permission denied/i);
    expect(await host.getByTestId('stage-guest').filter({ hasText: 'Stage shy' }).count()).toBe(0);
    const guests = (await (await fetch(`${e2e.stack.url}/api/stage/${sessionId}/guests`)).json()) as { id: string }[];
    expect(guests.map((g) => g.id)).not.toContain(deniedId);
    // Still a plain viewer: decoding goes on.
    const frames = (await stats(denied)).video.framesDecoded;
    await expect.poll(async () => (await stats(denied)).video.framesDecoded, { timeout: 10_000 }).toBeGreaterThan(frames + 10);
  });
});
