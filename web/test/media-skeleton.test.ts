import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { MediaNode } from '@podlive/sfu';
import { loadConfig } from '@podlive/sfu/config';
import { signMediaToken, type MediaRole } from '@podlive/shared/tokens';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { launchChromium } from '@podlive/shared/testing/chromium';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { startWebServer, type WebServer } from './web-server';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('media walking skeleton: a host page publishes, a viewer page decodes', () => {
  let node: MediaNode;
  let web: WebServer;
  let browser: Browser;

  beforeAll(async () => {
    const config = loadConfig({
      SFU_PORT: '0',
      SFU_WORKERS: '1',
      RTC_PORT_BASE: String(await freeRtcPortBase(1)),
      MEDIA_TOKEN_SECRET: SECRET,
      SFU_NODE_ID: 'node-a',
    });
    [node, web, browser] = await Promise.all([MediaNode.start(config), startWebServer(), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await node?.close();
  });

  async function open(path: 'publish' | 'watch', role: MediaRole, sub: string): Promise<Page> {
    const token = await signMediaToken(SECRET, { sid: 'skeleton', sub, role, node: 'node-a' });
    const ws = `${node.url.replace('http', 'ws')}/?token=${encodeURIComponent(token)}`;
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${web.url}/dev/${path}?ws=${encodeURIComponent(ws)}`);
    return page;
  }

  const stats = (page: Page) => page.evaluate(() => (window as unknown as { podliveMedia?: { inboundStats(): Promise<InboundStats> } }).podliveMedia?.inboundStats() ?? null);

  it('decodes the host camera (H.264 simulcast) and receives its microphone (Opus)', async () => {
    const host = await open('publish', 'host', 'host-1');
    await expect.poll(() => host.getByTestId('status').textContent(), { timeout: 20_000 }).toBe('Live: 2 tracks published');

    const viewer = await open('watch', 'viewer', 'viewer-1');
    await expect.poll(async () => (await stats(viewer))?.video.framesDecoded ?? 0, { timeout: 20_000 }).toBeGreaterThan(20);
    const first = (await stats(viewer))!;
    // Frames keep coming: a later sample decoded more frames and more audio packets.
    await expect.poll(async () => (await stats(viewer))!.video.framesDecoded, { timeout: 10_000 }).toBeGreaterThan(first.video.framesDecoded + 20);
    await expect.poll(async () => (await stats(viewer))!.audio.packetsReceived, { timeout: 10_000 }).toBeGreaterThan(first.audio.packetsReceived);

    // On the node: the host's video producer is H.264 with three simulcast layers, and each
    // layer carries packets.
    const room = node.rooms.get('skeleton')!;
    const hostPeer = [...room.peers.values()].find((p) => p.claims.role === 'host')!;
    const video = [...hostPeer.producers.values()].find((p) => p.kind === 'video')!;
    expect(video.rtpParameters.codecs[0]?.mimeType).toBe('video/H264');
    expect(video.rtpParameters.encodings).toHaveLength(3);
    await expect
      .poll(async () => (await video.getStats()).filter((s) => s.packetCount > 0).map((s) => s.rid).sort(), { timeout: 15_000 })
      .toEqual(['r0', 'r1', 'r2']);
  });
});
