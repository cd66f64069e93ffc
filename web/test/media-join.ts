import { readFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { randomHandle } from '@podlive/shared/testing/handles';
import { runLoad } from '../../sfu/load/cluster';
import { parseOptions } from '../../sfu/load/options';
import type { LoadReport } from '../../sfu/load/report';
import type { Stack } from './stack';

/**
 * A live that is on: a fresh host (registered, verified and logged in through the API) starts it,
 * and publishes from Chromium (/dev/publish, the 720p fake camera: H.264 simulcast 480p + 720p,
 * and Opus) with the host token POST /api/live/:id/start returns. Resolves with the live's id.
 */
export async function liveWithChromiumHost(stack: Stack, browser: Browser): Promise<string> {
  const handle = randomHandle('joinhost');
  const email = `${handle}@example.com`;
  const password = 'correct horse battery staple';
  let token = '';
  const api = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${stack.url}/api${path}`, {
      method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  };
  await api('/auth/register', { email, password, handle });
  await api('/auth/verify-otp', { email, code: await stack.latestCode(email), purpose: 'verify_email' });
  ({ accessToken: token } = await api<{ accessToken: string }>('/auth/login', { email, password }));
  const { session } = await api<{ session: { id: string } }>('/live/create', { title: 'Join time', category: 'Tech' });
  const { join } = await api<{ join: { url: string; token: string } }>(`/live/${session.id}/start`, {});
  const host = await (await browser.newContext()).newPage();
  await host.goto(`${stack.url}/dev/publish?ws=${encodeURIComponent(`${join.url}/?token=${encodeURIComponent(join.token)}`)}`);
  await host.getByText(/Live: 2 tracks published/).waitFor({ timeout: 30_000 });
  return session.id;
}

/** One Chromium viewer's join, on the page's own clock. */
export interface ChromiumJoin {
  /** Start of the page's media token request (Resource Timing) → first decoded frame presented. */
  tokenToFrameMs: number;
  /** Navigation start → first decoded frame presented (page load included). */
  navigationToFrameMs: number;
}

type JoinWindow = { joinFirstFrame?: number };

/**
 * A viewer opens /live/:id in a fresh browser context (nothing cached, its own renderer) and
 * watches until the first decoded video frame is presented (requestVideoFrameCallback, or the
 * video element reporting a size, polled every 5 ms); the context is closed after.
 */
export async function chromiumJoin(browser: Browser, baseURL: string, liveId: string, timeoutMs = 30_000, forwardedFor?: string): Promise<ChromiumJoin> {
  // `forwardedFor`: the viewer's address as the stack sees it (X-Forwarded-For, trusted from loopback).
  const context = await browser.newContext({ baseURL, ...(forwardedFor === undefined ? {} : { extraHTTPHeaders: { 'x-forwarded-for': forwardedFor } }) });
  try {
    await context.addInitScript(() => {
      const w = window as JoinWindow;
      const hooked = new WeakSet<HTMLVideoElement>();
      const timer = setInterval(() => {
        for (const v of document.querySelectorAll('video')) {
          if (!hooked.has(v)) {
            hooked.add(v);
            v.requestVideoFrameCallback((now) => void (w.joinFirstFrame ??= now));
          }
          if (v.videoWidth > 0) w.joinFirstFrame ??= performance.now();
        }
        if (w.joinFirstFrame !== undefined) clearInterval(timer);
      }, 5);
    });
    const page = await context.newPage();
    await page.goto(`/live/${liveId}`);
    await page.waitForFunction(() => (window as JoinWindow).joinFirstFrame !== undefined, undefined, { timeout: timeoutMs });
    const t = await page.evaluate(() => ({
      token: performance.getEntriesByType('resource').find((e) => /\/token(\?|$)/.test(e.name))?.startTime,
      frame: (window as JoinWindow).joinFirstFrame ?? NaN,
    }));
    if (t.token === undefined) throw new Error('the page made no media token request');
    return { tokenToFrameMs: t.frame - t.token, navigationToFrameMs: t.frame };
  } finally {
    await context.close();
  }
}

/**
 * Headless viewers (podlive-load: werift ICE, DTLS, SRTP) joining a live through the control
 * plane's token route, `rate` a second, spread over two tester processes (one per core here);
 * each viewer's join = token request → every consumer resumed. They stay 2 s after the last join.
 */
export function headlessJoins(apiUrl: string, liveId: string, viewers: number, rate: number): Promise<LoadReport> {
  return runLoad(parseOptions([
    '--url', apiUrl, '--session', liveId, '--viewers', String(viewers), '--rate', String(rate), '--duration', '2', '--sample', '50', '--processes', '2', '--no-progress',
  ]));
}

/** The 1-minute load average (/proc/loadavg): how busy the machine was around a measurement. */
export const loadAverage = (): number => Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
