import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { iceServersFor } from '@podlive/server/media/turn';
import { launchChromium } from '@podlive/shared/testing/chromium';
import { startCoturn, type Coturn } from '@podlive/shared/testing/coturn';

/** coturn grants a new allocation this long at most, so Chromium refreshes it after 8 s (half of it). */
const ALLOCATION_LIFETIME_SEC = 16;

type PeerWindow = { pc: RTCPeerConnection; channel?: RTCDataChannel; received: number[]; errors: string[] };

/**
 * The TURN credentials a media token carries expire with it (two minutes): can a live of an hour
 * go on through a relay made with them? coturn checks the expiry when a relay is allocated, not
 * when it is refreshed; so a relay in use outlives its credential, and only a new relay needs new
 * credentials (a page gets them with a new token). Shown here
 * with Chromium's own TURN client, whose first refresh (8 s) comes after its credential expired (4 s).
 */
describe('TURN credentials expire with the token, the relay made with them does not', () => {
  let coturn: Coturn;
  let browser: Browser;
  let turnUrl = '';
  const secret = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    coturn = await startCoturn(secret, { extraArgs: [`--max-allocate-lifetime=${ALLOCATION_LIFETIME_SEC}`, '-V'] });
    turnUrl = `turn:127.0.0.1:${coturn.port}?transport=udp`;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await coturn?.close();
  });

  /** A page in a secure context (localhost, served by the test: no web server needed), with a peer connection. */
  const peer = async (config: RTCConfiguration): Promise<Page> => {
    const page = await browser.newPage();
    await page.route('http://localhost/**', (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>peer</title>' }));
    await page.goto('http://localhost/peer');
    await page.evaluate(async (c) => {
      const w = window as unknown as PeerWindow;
      w.pc = new RTCPeerConnection(c);
      w.received = [];
      w.errors = [];
      w.pc.addEventListener('icecandidateerror', (e) => w.errors.push(`${e.errorCode} ${e.errorText}`));
      // Chromium hides its host addresses behind mDNS names until the page may use the microphone.
      const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      for (const track of mic.getTracks()) w.pc.addTrack(track, mic);
    }, config);
    return page;
  };
  const gathered = (page: Page) =>
    page.evaluate(() => {
      const { pc } = window as unknown as PeerWindow;
      return new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      });
    });
  const localTypes = (page: Page) =>
    page.evaluate(async () => {
      const types: string[] = [];
      (await (window as unknown as PeerWindow).pc.getStats()).forEach((s: { type: string; candidateType?: string }) => s.type === 'local-candidate' && types.push(s.candidateType ?? ''));
      return types;
    });

  /** Connects `relayed` (relay only, with `config`'s TURN server) to a plain peer over a data channel. */
  async function connect(relayed: Page, plain: Page): Promise<void> {
    await relayed.evaluate(async () => {
      const w = window as unknown as PeerWindow;
      w.channel = w.pc.createDataChannel('ticks');
      w.channel.onmessage = (e) => w.received.push(Number(e.data));
      await w.pc.setLocalDescription();
    });
    await gathered(relayed);
    const offer = await relayed.evaluate(() => (window as unknown as PeerWindow).pc.localDescription!.toJSON());
    await plain.evaluate(async (o) => {
      const w = window as unknown as PeerWindow;
      // The plain side sends a tick every 250 ms for as long as the channel is open.
      w.pc.ondatachannel = (e) => {
        const channel = e.channel;
        const timer = setInterval(() => channel.readyState === 'open' && channel.send(String(Date.now())), 250);
        channel.onclose = () => clearInterval(timer);
      };
      await w.pc.setRemoteDescription(o);
      await w.pc.setLocalDescription();
    }, offer);
    await gathered(plain);
    const answer = await plain.evaluate(() => (window as unknown as PeerWindow).pc.localDescription!.toJSON());
    await relayed.evaluate((a) => (window as unknown as PeerWindow).pc.setRemoteDescription(a), answer);
  }
  const ticks = (page: Page) => page.evaluate(() => (window as unknown as PeerWindow).received.length);

  it('a relay made with a credential that then expires carries data through several refreshes after it', { timeout: 90_000 }, async () => {
    const ttlSec = 4;
    const servers = iceServersFor({ urls: [turnUrl], secret }, 'viewer:anon', ttlSec);
    const relayed = await peer({ iceServers: servers, iceTransportPolicy: 'relay' });
    const plain = await peer({ iceServers: [] });
    const expiresAt = Number(servers[0]!.username.split(':')[0]) * 1000;
    await connect(relayed, plain);
    await expect.poll(() => ticks(relayed), { timeout: 15_000 }).toBeGreaterThan(4);
    expect(await localTypes(relayed)).toEqual(expect.arrayContaining(['relay']));
    expect(new Set(await localTypes(relayed))).toEqual(new Set(['relay']));

    // Chromium refreshes the allocation 8 s after making it, with the credential expired by then;
    // refused, the relay would be gone 16 s after it was made. Watch well past that.
    const until = expiresAt + 3 * (ALLOCATION_LIFETIME_SEC / 2) * 1000 + 2000;
    await relayed.waitForFunction((t) => ((window as unknown as PeerWindow).received.at(-1) ?? 0) > t, until, { timeout: until - Date.now() + 15_000, polling: 500 });
    // Every tick arrived, with no outage along the way (the plain side sends one each 250 ms).
    const sent = await relayed.evaluate(() => (window as unknown as PeerWindow).received);
    const longestGap = Math.max(...sent.slice(1).map((t, i) => t - (sent[i] as number)));
    expect(longestGap).toBeLessThan(3000);
    expect(await relayed.evaluate(() => (window as unknown as PeerWindow).pc.connectionState)).toBe('connected');
    // coturn saw the refresh, made with the expired credential, and granted it.
    expect(coturn.log()).toContain(`user <${servers[0]!.username}>: incoming packet REFRESH processed, success`);
  });

  it('a new relay with an expired credential is refused (401): a new transport needs fresh credentials', { timeout: 60_000 }, async () => {
    const expired = iceServersFor({ urls: [turnUrl], secret }, 'viewer', 60, Date.now() - 61_000);
    const late = await peer({ iceServers: expired, iceTransportPolicy: 'relay' });
    await late.evaluate(async () => {
      const w = window as unknown as PeerWindow;
      w.pc.createDataChannel('x');
      await w.pc.setLocalDescription();
    });
    await gathered(late);
    expect(await localTypes(late)).toEqual([]);
    expect(await late.evaluate(() => (window as unknown as PeerWindow).errors)).toEqual(expect.arrayContaining([expect.stringMatching(/^401/)]));
  });
});
