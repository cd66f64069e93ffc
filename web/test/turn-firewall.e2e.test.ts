import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { startCoturn, type Coturn } from '@podlive/shared/testing/coturn';
import { createFirewalledNetwork, type FirewalledNetwork } from '@podlive/shared/testing/netns';
import { freeTcpPort } from '@podlive/shared/testing/ports';
import type { ConsumerStats, InboundStats, SelectedPath } from '../src/lib/media/stats';
import { openBrowser, type BrowserHarness } from './browser';
import { signIn, startStack, type Stack } from './stack';
import { goLiveFromStudio } from './studio';
import { startTlsProxy, type TlsProxy } from './tls-proxy';

type MediaWindow = {
  podliveMedia?: { inboundStats(): Promise<InboundStats>; consumerStats(): Promise<ConsumerStats[]>; selectedPath(direction: 'send' | 'recv'): Promise<SelectedPath | null> };
};

const NAME = 'podlive.test';
const TURN_NAME = `turn.${NAME}`;
/** The host side of the link to the namespace: the site and the media node on .1, TURN alone on .2 (Caddy holds 443 on .1). */
const SITE_IP = '10.213.0.1';
const TURN_IP = '10.213.0.2';

/**
 * A viewer and a guest on a network that lets nothing out but TCP to port 443 (a hotel or office
 * Wi-Fi): their Chromium runs in a network namespace of its own whose nftables firewall drops all
 * UDP and every other TCP port. They still watch and speak, through coturn's TURN over TLS on 443
 * (its certificate is the one Caddy made for the TURN name, as the installed host does); with the
 * firewall lifted the same browser connects directly. Real Caddy, coturn, mediasoup and Chromium.
 */
describe('behind a firewall that lets only TCP 443 out: TURN over TLS on 443', () => {
  let net: FirewalledNetwork;
  let stack: Stack;
  let proxy: TlsProxy;
  let coturn: Coturn;
  let outside: BrowserHarness;
  let inside: BrowserHarness;
  let sessionId = '';

  beforeAll(async () => {
    net = await createFirewalledNetwork({ prefix: '24', hostIps: [SITE_IP, TURN_IP], nsIp: '10.213.0.10' });
    const secret = randomBytes(32).toString('base64url');
    const site = `https://${NAME}`;
    stack = await startStack({
      media: true,
      nodeEnv: { RTC_LISTEN_IP: SITE_IP },
      serverEnv: { PUBLIC_URL: site, SFU_PUBLIC_WS_URL: `wss://${NAME}/sfu/local`, TURN_URLS: `turns:${TURN_NAME}:443?transport=tcp`, TURN_SECRET: secret },
    });
    proxy = await startTlsProxy({
      domain: NAME, httpPort: await freeTcpPort(SITE_IP), httpsPort: 443, bind: SITE_IP, turnName: TURN_NAME,
      server: new URL(stack.url).host, nodes: { local: new URL(stack.node!.url).host },
    });
    coturn = await startCoturn(secret, { listenIp: TURN_IP, tls: { port: 443, ...(await proxy.certificate(TURN_NAME)) } });
    const chromium = { home: proxy.home, args: [`--host-resolver-rules=MAP ${NAME} ${SITE_IP}, MAP ${TURN_NAME} ${TURN_IP}`] };
    outside = await openBrowser(() => site, chromium);
    inside = await openBrowser(() => site, { ...chromium, executable: net.chromium });
    await net.firewall(true);
  }, 120_000);

  afterAll(async () => {
    await inside?.close();
    await outside?.close();
    await coturn?.close();
    await proxy?.close();
    await stack?.stop();
    await net?.close();
  });

  const path = (page: Page, direction: 'send' | 'recv') => page.evaluate((d) => (window as MediaWindow).podliveMedia?.selectedPath(d) ?? null, direction);
  const framesDecoded = (page: Page) => page.evaluate(async () => (await (window as MediaWindow).podliveMedia?.inboundStats())?.video.framesDecoded ?? 0);

  it('a viewer watches and a guest speaks through coturn over TLS on 443', { timeout: 180_000 }, async () => {
    const host = await outside.newPage();
    await signIn(stack, host, { handle: 'fw_host', displayName: 'Firewall Host', path: '/studio' });
    sessionId = await goLiveFromStudio(host, 'Live through a firewall');

    const guest = await inside.newPage();
    const guestId = await signIn(stack, guest, { handle: 'fw_guest', displayName: 'Hotel Guest', path: `/live/${sessionId}` });
    await expect.poll(() => framesDecoded(guest), { timeout: 45_000 }).toBeGreaterThan(10);
    const watching = await path(guest, 'recv');
    expect(watching).toMatchObject({ localType: 'relay', relayProtocol: 'tls', remoteType: 'host', remoteAddress: SITE_IP });
    expect(watching?.url).toBe(`turns:${TURN_NAME}:443?transport=tcp`);


    // The host calls them onto the stage; they answer with the microphone only.
    const panel = host.getByRole('region', { name: 'Invite to stage' });
    await panel.getByLabel('Handle').fill('fw_guest');
    await panel.getByRole('button', { name: 'Invite', exact: true }).click();
    const dialog = guest.getByRole('dialog', { name: 'Stage invite' });
    await dialog.waitFor({ timeout: 15_000 });
    await dialog.getByRole('checkbox', { name: 'Also turn on camera' }).uncheck();
    await dialog.getByRole('button', { name: 'Accept' }).click();
    await guest.getByRole('region', { name: "You're on stage" }).waitFor({ timeout: 30_000 });

    // The host hears them, and what they send goes out through TURN over TLS too.
    const heard = () => host.evaluate(async (id) => (await (window as MediaWindow).podliveMedia?.consumerStats())?.find((c) => c.userId === id && c.kind === 'audio')?.packetsReceived ?? 0, guestId);
    await expect.poll(heard, { timeout: 30_000 }).toBeGreaterThan(20);
    expect(await path(guest, 'send')).toMatchObject({ localType: 'relay', relayProtocol: 'tls', remoteAddress: SITE_IP });
  });

  it('with the firewall lifted, the same browser connects directly: TURN is a fallback, not the path', { timeout: 120_000 }, async () => {
    expect(sessionId).not.toBe('');
    await net.firewall(false);
    const viewer = await inside.newPage();
    await viewer.goto(`/live/${sessionId}`);
    await expect.poll(() => framesDecoded(viewer), { timeout: 45_000 }).toBeGreaterThan(10);
    const direct = await path(viewer, 'recv');
    expect(direct?.localType).toMatch(/^(host|srflx|prflx)$/);
    expect(direct).toMatchObject({ relayProtocol: null, remoteAddress: SITE_IP });
  });
});
