import type { Browser, Page } from 'playwright-core';
import { MediaNode } from '@podlive/sfu';
import { loadConfig } from '@podlive/sfu/config';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { signMediaToken, type MediaRole } from '@podlive/shared/tokens';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { launchChromium, type FakeCamera } from '@podlive/shared/testing/chromium';
import { startWebServer, type WebServer } from './web-server';

const KEYS = testKeyPair();

/** A real SFU node (one worker), the built web app and Debian's Chromium, for the /dev media pages. */
export interface MediaRig {
  node: MediaNode;
  web: WebServer;
  browser: Browser;
  /** Opens /dev/<path> in a fresh browser context with a media token for `sessionId`. */
  open(path: string, role: MediaRole, sub: string, query?: string): Promise<Page>;
  stop(): Promise<void>;
}

export async function startMediaRig(sessionId: string, { camera }: { camera?: FakeCamera } = {}): Promise<MediaRig> {
  const config = loadConfig({ SFU_PORT: '0', SFU_WORKERS: '1', RTC_PORT_BASE: String(await freeRtcPortBase(1)), MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, SFU_NODE_ID: 'rig' });
  const [node, web, browser] = await Promise.all([MediaNode.start(config), startWebServer(), launchChromium({ camera })]);
  return {
    node,
    web,
    browser,
    async open(path, role, sub, query = '') {
      const token = await signMediaToken(KEYS.privateKey, { sid: sessionId, sub, role, node: 'rig' });
      const ws = `${node.url.replace('http', 'ws')}/?token=${encodeURIComponent(token)}`;
      const page = await (await browser.newContext()).newPage();
      await page.goto(`${web.url}/dev/${path}?ws=${encodeURIComponent(ws)}${query}`);
      return page;
    },
    async stop() {
      await browser.close();
      await web.stop();
      await node.close();
    },
  };
}
