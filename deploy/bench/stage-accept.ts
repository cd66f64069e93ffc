/**
 * Stage accept → the guest's first audio packet at a viewer, in real Chromium on the real stack
 * (control plane + built web app + an in-process media node). A signed-in guest watches the live
 * on /dev/watch (its viewer token from GET /api/live/:id/token); an anonymous viewer watches too.
 * Each round: the host invites the guest (API), t0 = the accept request is sent; the guest's page
 * redeems the grant on its existing connection (upgradeToGuest), opens the fake microphone and
 * publishes; t1 = the viewer's remote audio track from the guest unmutes (its first packet
 * arrived). Same machine, same clock. Then the host removes the guest and the next round starts.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '@podlive/shared/testing/chromium';
import { goLive, signUp, viewerToken, type Account } from './lib/client';
import { writeResult } from './lib/result';
import { summarize, until } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { startStack } = await import('../../web/test/stack');

const ROUNDS = Number(process.env.BENCH_STAGE_ROUNDS ?? 20);
type Probe = { podliveMedia?: GuestMedia; guestAudioAt?: number };
type GuestMedia = {
  consumers: Map<string, { kind: string; producerId: string; track: MediaStreamTrack }>;
  ownerOf(c: { producerId: string }): string | undefined;
  upgradeToGuest(token: string): Promise<void>;
  publish(stream: MediaStream): Promise<void>;
};

const t0 = performance.now();
const [stack, browser] = await Promise.all([startStack({ media: true }), launchChromium()]);
const samples: number[] = [];
const failures: string[] = [];
const api = (path: string, who: Account, init: { method?: string; body?: unknown } = {}) =>
  fetch(`${stack.url}/api${path}`, {
    method: init.method ?? 'POST',
    headers: { authorization: `Bearer ${who.accessToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
async function watch(token: { url: string; token: string }): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${stack.url}/dev/watch?ws=${encodeURIComponent(`${token.url}/?token=${encodeURIComponent(token.token)}`)}`);
  await until(async () => ((await page.evaluate(() => Boolean((window as Probe).podliveMedia))) ? true : undefined), 'the page connected', 20_000);
  return page;
}

try {
  const host = await signUp(stack.url, join(stack.dataDir, 'outbox'));
  const guest = await signUp(stack.url, join(stack.dataDir, 'outbox'));
  const live = await goLive(stack.url, host);
  const guestPage = await watch(await viewerToken(stack.url, live.id, guest.accessToken));
  const viewer = await watch(await viewerToken(stack.url, live.id));
  for (let round = 0; round < ROUNDS; round++) {
    // The viewer records when the guest's next audio track gets its first packet.
    await viewer.evaluate((guestId) => {
      const w = window as Probe;
      w.guestAudioAt = undefined;
      const seen = new Set(w.podliveMedia!.consumers.keys());
      const timer = setInterval(() => {
        for (const [id, c] of w.podliveMedia!.consumers) {
          if (seen.has(id) || c.kind !== 'audio' || w.podliveMedia!.ownerOf(c) !== guestId) continue;
          seen.add(id);
          clearInterval(timer);
          if (!c.track.muted) w.guestAudioAt = Date.now();
          else c.track.addEventListener('unmute', () => (w.guestAudioAt ??= Date.now()), { once: true });
        }
      }, 2);
    }, guest.id);
    const invite = await api('/stage/invite', host, { body: { sessionId: live.id, handle: guest.handle } });
    if (invite.status !== 201) throw new Error(`invite answered ${invite.status}: ${await invite.text()}`);
    const { invite: sent } = (await invite.json()) as { invite: { id: string } };
    const acceptedAt = Date.now();
    const accepted = await api(`/stage/invite/${sent.id}/accept`, guest);
    const { grant } = (await accepted.json()) as { grant: { token: string } };
    await guestPage.evaluate(async (token) => {
      const media = (window as Probe).podliveMedia!;
      await media.upgradeToGuest(token);
      await media.publish(await navigator.mediaDevices.getUserMedia({ audio: true }));
    }, grant.token);
    const at = await until(async () => (await viewer.evaluate(() => (window as Probe).guestAudioAt)) ?? undefined, 'the guest’s audio at the viewer', 15_000).catch(() => undefined);
    if (at === undefined) failures.push(`round ${round}: no guest audio at the viewer within 15 s`);
    else samples.push(at - acceptedAt);
    const removed = await api(`/stage/guest/${guest.id}?sessionId=${live.id}`, host, { method: 'DELETE' });
    if (!removed.ok) throw new Error(`remove answered ${removed.status}`);
    await until(async () => ((await guestPage.evaluate(() => ((window as Probe).podliveMedia as unknown as { producers: Map<string, unknown> }).producers.size === 0)) ? true : undefined), 'the guest removed', 10_000);
  }
} finally {
  await browser.close();
  await stack.stop();
}
const acceptToAudio = summarize(samples);
process.stderr.write(`[stage-accept] accept → guest audio at a viewer ${JSON.stringify(acceptToAudio)}\n`);
await writeResult({
  name: 'stage-accept',
  title: 'Stage: accept → guest audio at a viewer',
  method: `Real Chromium pages on the real stack (control plane + built web app + in-process media node, 1 worker). A signed-in guest and an anonymous viewer watch /dev/watch. ${ROUNDS} rounds: the host invites the guest over the API; t0 = the accept request is sent; the guest's page redeems the grant on its existing protoo connection (upgradeToGuest), opens the fake microphone and publishes Opus; t1 = the viewer's remote audio track from the guest unmutes (first packet). Then the host removes the guest. Includes getUserMedia and the guest's DTLS handshake on a new send transport.`,
  notMeasured: failures,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: { rounds: ROUNDS, acceptToGuestAudioMs: acceptToAudio },
});
process.exit(0);
