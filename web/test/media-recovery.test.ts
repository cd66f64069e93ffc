import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { InboundStats } from '../src/lib/media/MediaSession';
import { startMediaRig, type MediaRig } from './media-rig';

type MediaWindow = { podliveMedia?: { inboundStats(): Promise<InboundStats>; transportId(d: 'recv'): Promise<string | undefined> } };

describe('viewers keep receiving: server-side transport loss, TCP only, listen mode', () => {
  let rig: MediaRig;
  const open = (path: string, role: 'host' | 'viewer', sub: string, query = '') => rig.open(path, role, sub, query);
  const stats = async (page: Page) => (await page.evaluate(() => (window as MediaWindow).podliveMedia?.inboundStats() ?? null))!;
  const framesGrow = async (page: Page, by = 20) => {
    await expect.poll(async () => (await stats(page))?.video.framesDecoded ?? 0, { timeout: 20_000 }).toBeGreaterThan(0);
    const start = (await stats(page)).video.framesDecoded;
    await expect.poll(async () => (await stats(page)).video.framesDecoded, { timeout: 20_000 }).toBeGreaterThan(start + by);
  };
  const viewerPeer = (sub: string) => [...rig.node.rooms.get('recovery')!.peers.values()].find((p) => p.claims.sub === sub)!;

  beforeAll(async () => {
    rig = await startMediaRig('recovery');
    const host = await open('publish', 'host', 'host');
    await host.getByText('Live: 2 tracks published').waitFor({ timeout: 20_000 });
  });

  afterAll(() => rig?.stop());

  it('a viewer whose transport the node closes gets a new one and decodes again, without a reload', async () => {
    const viewer = await open('watch', 'viewer', 'v-recover');
    await framesGrow(viewer);
    const before = await viewer.evaluate(() => (window as MediaWindow).podliveMedia!.transportId('recv'));
    const navigations: string[] = [];
    viewer.on('framenavigated', (f) => navigations.push(f.url()));

    viewerPeer('v-recover').transports.get(before!)!.close();

    await expect.poll(() => viewer.evaluate(() => (window as MediaWindow).podliveMedia!.transportId('recv')), { timeout: 10_000 }).not.toBe(before);
    await framesGrow(viewer);
    expect((await stats(viewer)).audio.packetsReceived).toBeGreaterThan(0);
    expect(navigations).toEqual([]);
  });

  it('a viewer offered only TCP candidates receives media over TCP', async () => {
    const viewer = await open('watch', 'viewer', 'v-tcp', '&tcp=1');
    await framesGrow(viewer);
    expect((await stats(viewer)).protocol).toBe('tcp');
    expect([...viewerPeer('v-tcp').transports.values()][0]!.iceSelectedTuple?.protocol).toBe('tcp');
  });

  it('listen mode keeps only the audio consumer: video stops, audio goes on', async () => {
    const viewer = await open('watch', 'viewer', 'v-listen');
    await framesGrow(viewer);
    await viewer.getByRole('button', { name: 'Listen only' }).click();
    await expect.poll(() => [...viewerPeer('v-listen').consumers.values()].map((c) => c.kind), { timeout: 5000 }).toEqual(['audio']);
    const audioBefore = (await stats(viewer)).audio.packetsReceived;
    await expect.poll(async () => (await stats(viewer)).audio.packetsReceived, { timeout: 10_000 }).toBeGreaterThan(audioBefore + 25);
    expect((await stats(viewer)).video.framesDecoded).toBe(0);
    // And back: video is consumed again.
    await viewer.getByRole('button', { name: 'Listen only' }).click();
    await framesGrow(viewer);
  });
});
