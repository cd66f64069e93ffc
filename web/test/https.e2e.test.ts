import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { freeTcpPort } from '@podlive/shared/testing/ports';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { openBrowser, type BrowserHarness } from './browser';
import { signIn, startStack, type Stack } from './stack';
import { goLiveFromStudio } from './studio';
import { startTlsProxy, type TlsProxy } from './tls-proxy';

type MediaWindow = { podliveMedia?: { inboundStats(): Promise<InboundStats> } };

const NAME = 'podlive.test';

/**
 * PodLive behind the TLS proxy an operator installs (deploy/host's Caddyfile, Debian's Caddy), by a
 * name that is not localhost: Chromium resolves podlive.test to this machine and trusts the proxy's
 * local CA through its NSS database (as a LAN user who installed the root would), not by ignoring
 * certificate errors. The camera only works in a secure context, and the SFU's WebSocket goes
 * through the same origin (/sfu/<node>/), so the page needs no other certificate.
 */
describe('over https by a public-looking name (Caddy with its local CA in front of everything)', () => {
  let stack: Stack;
  let proxy: TlsProxy;
  let browser: BrowserHarness;
  let site: string;
  let ports: { http: number; https: number };

  beforeAll(async () => {
    ports = { http: await freeTcpPort(), https: await freeTcpPort() };
    site = `https://${NAME}:${ports.https}`;
    stack = await startStack({ media: true, serverEnv: { PUBLIC_URL: site, SFU_PUBLIC_WS_URL: `wss://${NAME}:${ports.https}/sfu/local` } });
    proxy = await startTlsProxy({
      domain: NAME, httpPort: ports.http, httpsPort: ports.https,
      server: new URL(stack.url).host, nodes: { local: new URL(stack.node!.url).host },
    });
    browser = await openBrowser(() => site, { home: proxy.home, args: [`--host-resolver-rules=MAP ${NAME} 127.0.0.1`] });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await proxy?.close();
    await stack?.stop();
  });

  /** Every URL a page asks for and every WebSocket it opens. */
  const watchTraffic = (page: Page, seen: string[]) => {
    page.on('request', (r) => seen.push(r.url()));
    page.on('websocket', (ws) => seen.push(ws.url()));
  };

  it('a host goes live from /studio with camera and mic, a viewer watches: https and wss only', { timeout: 180_000 }, async () => {
    const seen: string[] = [];
    const host = await browser.newPage();
    watchTraffic(host, seen);
    await signIn(stack, host, { handle: 'tls_host', displayName: 'TLS Host', path: '/studio' });
    expect(await host.evaluate(() => window.isSecureContext)).toBe(true);
    const id = await goLiveFromStudio(host, 'Live over TLS');

    const viewer = await browser.newPage();
    watchTraffic(viewer, seen);
    await viewer.goto(`/live/${id}`);
    const stats = async () => (await viewer.evaluate(() => (window as MediaWindow).podliveMedia?.inboundStats() ?? null));
    await expect.poll(async () => (await stats())?.video.framesDecoded ?? 0, { timeout: 30_000 }).toBeGreaterThan(10);
    expect((await stats())?.audio.packetsReceived ?? 0, 'the host\'s microphone').toBeGreaterThan(0);

    const schemes = new Set(seen.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:')).map((u) => new URL(u).protocol));
    expect([...schemes].sort()).toEqual(['https:', 'wss:']);
    expect(seen.filter((u) => u.startsWith('wss:')).map((u) => new URL(u).pathname).sort()).toEqual(expect.arrayContaining(['/sfu/local/', '/ws']));
    for (const u of seen) expect(new URL(u).hostname, u).toBe(NAME);
  });

  it('http redirects to https; https answers carry HSTS and the security headers, compressed', async () => {
    const redirect = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: ports.http, path: '/discover', headers: { host: NAME } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      }).on('error', reject).end();
    });
    expect(redirect.status).toBe(308);
    expect(redirect.location).toMatch(new RegExp(`^https://${NAME.replace('.', '\\.')}(:\\d+)?/discover$`));

    const ca = await readFile(proxy.rootCert);
    const get = (path: string) => new Promise<{ status: number; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
      request({ host: '127.0.0.1', port: ports.https, servername: NAME, path, ca, headers: { host: `${NAME}:${ports.https}`, 'accept-encoding': 'gzip' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, headers: res.headers });
      }).on('error', reject).end();
    });
    for (const path of ['/', '/api/live/active']) {
      const { status, headers } = await get(path);
      expect(status, path).toBe(200);
      expect(headers['strict-transport-security'], path).toBe('max-age=31536000; includeSubDomains');
      expect(headers['x-content-type-options'], path).toBe('nosniff');
      expect(headers['x-frame-options'], path).toBe('DENY');
      expect(headers['referrer-policy'], path).toBe('strict-origin-when-cross-origin');
    }
    expect((await get('/')).headers['permissions-policy']).toContain('camera=(self)');
    expect((await get('/')).headers['content-encoding']).toBe('gzip');
  });
});
