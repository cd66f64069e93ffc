import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import { MediaNode } from '../src/MediaNode';
import { KEYS, testConfig } from '../test/helpers';
import { runLoad } from './cluster';
import { FilePublisher } from './file-publisher';
import { prepareHostMedia } from './host-media';
import { parseOptions } from './options';
import { MAX_PAYLOAD, packetizeH264, withParameterSets } from './rtp-packetizer';

/** The producer's inbound-rtp stats, in the order of its encodings (lowest layer first). */
async function inbound(producer: types.Producer): Promise<types.ProducerStat[]> {
  const stats = (await producer.getStats()).filter((s) => s.type === 'inbound-rtp');
  const order = producer.rtpParameters.encodings?.map((e) => e.ssrc) ?? [];
  return stats.sort((a, b) => order.indexOf(a.ssrc) - order.indexOf(b.ssrc));
}

describe('FilePublisher', () => {
  let node: MediaNode;
  let publisher: FilePublisher | undefined;

  beforeAll(async () => {
    // Encodes the clip on the first run on this machine (a few seconds), then reads it from the cache.
    await prepareHostMedia();
    node = await MediaNode.start(await testConfig());
  });
  afterEach(() => {
    publisher?.close();
    publisher = undefined;
  });
  afterAll(() => node.close());

  it('publishes one simulcast video producer whose three layers reach mediasoup at rising bitrates', async () => {
    publisher = await FilePublisher.start({ node, session: 'file-sim', key: KEYS.privateKey });
    const video = publisher.producers.find((p) => p.kind === 'video');
    expect(publisher.producers.map((p) => p.kind)).toEqual(['audio', 'video']);
    expect(video?.type).toBe('simulcast');
    expect(video?.rtpParameters.encodings).toHaveLength(3);
    await expect.poll(async () => (await inbound(video!)).length, { timeout: 3000 }).toBe(3);
    const first = await inbound(video!);
    // Until the 180p layer has sent ~2.5 s more (~25 packets/s): every layer has been through a key frame.
    await expect.poll(async () => ((await inbound(video!))[0]?.packetCount ?? 0) - (first[0]?.packetCount ?? 0), { timeout: 6000, interval: 250 }).toBeGreaterThan(60);
    const later = await inbound(video!);
    expect(later).toHaveLength(3);
    for (const [i, s] of later.entries()) {
      expect(s.packetCount).toBeGreaterThan(first[i]?.packetCount ?? 0);
      expect(s.packetsLost).toBe(0);
    }
    const [low, mid, high] = later.map((s) => s.bitrate) as [number, number, number];
    expect(low).toBeGreaterThan(50_000);
    expect(mid).toBeGreaterThan(low * 2);
    expect(high).toBeGreaterThan(mid * 2);
    expect(high).toBeLessThan(2_500_000);
    const audio = (await inbound(publisher.producers[0]!))[0];
    expect(audio?.packetCount).toBeGreaterThan(100);
  });

  it('a load-test viewer receives audio and the top layer without loss, and follows a switch to the lowest layer', async () => {
    publisher = await FilePublisher.start({ node, session: 'file-view', key: KEYS.privateKey });
    let top: (types.ConsumerLayers | undefined)[] = [];
    let switched: (types.ConsumerLayers | undefined)[] = [];
    const args = ['--ws', node.url, `--key=${KEYS.privatePem}`, '--node', 'node-t', '--session', 'file-view', '--viewers', '2', '--rate', '20', '--duration', '3', '--sample', '10', '--no-progress'];
    const report = await runLoad(parseOptions(args), {
      beforeClose: async () => {
        const peers = [...(node.rooms.get('file-view')?.peers.values() ?? [])].filter((p) => p.claims.sub.startsWith('load:'));
        const consumers = peers.flatMap((p) => [...p.consumers.values()].filter((c) => c.kind === 'video'));
        top = consumers.map((c) => c.currentLayers);
        // Down to 180p: mediasoup switches at the layer's next IDR, once sender reports of both layers tell it how their timestamps align.
        await Promise.all(consumers.map((c) => c.setPreferredLayers({ spatialLayer: 0, temporalLayer: 0 })));
        await expect.poll(() => consumers.map((c) => c.currentLayers?.spatialLayer).join(), { timeout: 4000 }).toBe('0,0');
        switched = consumers.map((c) => c.currentLayers);
      },
    });
    expect(top).toEqual([{ spatialLayer: 2, temporalLayer: 0 }, { spatialLayer: 2, temporalLayer: 0 }]);
    expect(switched).toEqual([{ spatialLayer: 0, temporalLayer: 0 }, { spatialLayer: 0, temporalLayer: 0 }]);
    expect(report.viewers).toEqual({ requested: 2, joined: 2, failed: 0, receiving: 2, verified: 2 });
    // At least a second of 720p (~190 packets/s) each, and 50 Opus packets/s.
    expect(report.received.video.packets).toBeGreaterThan(2 * 190);
    expect(report.received.audio.packets).toBeGreaterThan(2 * 120);
    expect(report.loss.lost).toBe(0);
    expect(report.verification.failed).toBe(0);
  });

  it('rejects bad options with a TypeError before joining', async () => {
    const bad = { node, session: 'file-bad', key: KEYS.privateKey };
    await expect(FilePublisher.start({ ...bad, layers: 2 as 1 })).rejects.toThrow(new TypeError('layers must be 1 or 3, got 2'));
    await expect(FilePublisher.start({ ...bad, audio: 'yes' as unknown as boolean })).rejects.toThrow(/audio must be a boolean/);
    await expect(FilePublisher.start({ ...bad, session: '' })).rejects.toThrow(TypeError);
    expect(node.rooms.has('file-bad')).toBe(false);
  });

  it('one layer publishes a plain (non-simulcast) 720p producer, audio optional', async () => {
    publisher = await FilePublisher.start({ node, session: 'file-one', key: KEYS.privateKey, layers: 1, audio: false });
    expect(publisher.producers.map((p) => [p.kind, p.type])).toEqual([['video', 'simple']]);
    const producer = publisher.producers[0]!;
    await expect.poll(async () => (await inbound(producer))[0]?.packetCount ?? 0, { timeout: 3000 }).toBeGreaterThan(100);
  });
});

describe('H.264 packetization', () => {
  it('keeps small NAL units whole and splits big ones into FU-A fragments that rebuild them', () => {
    const big = Buffer.concat([Buffer.from([0x65]), Buffer.alloc(3000, 7)]);
    const small = Buffer.from([0x41, 1, 2, 3]);
    const payloads = packetizeH264([small, big]);
    expect(payloads[0]).toBe(small);
    const fus = payloads.slice(1);
    expect(fus).toHaveLength(3);
    expect(fus.every((p) => p.length <= MAX_PAYLOAD && (p[0]! & 0x1f) === 28 && (p[0]! & 0xe0) === 0x60)).toBe(true);
    expect(fus.map((p) => p[1]! & 0xc0)).toEqual([0x80, 0, 0x40]);
    expect(fus.every((p) => (p[1]! & 0x1f) === 5)).toBe(true);
    expect(Buffer.concat([Buffer.from([0x65]), ...fus.map((p) => p.subarray(2))])).toEqual(big);
  });

  it('puts the last SPS and PPS in front of an IDR that comes without them', () => {
    const sps = Buffer.from([0x67, 0x42]);
    const pps = Buffer.from([0x68, 0xce]);
    const idr = Buffer.from([0x65, 1]);
    const p = Buffer.from([0x41, 2]);
    expect(withParameterSets([[sps, pps, idr], [p], [idr]])).toEqual([[sps, pps, idr], [p], [sps, pps, idr]]);
    expect(() => withParameterSets([[idr]])).toThrow(/before any SPS/);
  });

  it('the encoded clip has the same frame count in every layer, an SPS-led IDR every 2 s, and 20 ms Opus', async () => {
    const media = await prepareHostMedia();
    const frames = media.seconds * media.fps;
    for (const layer of media.layers) {
      expect(layer.frames).toHaveLength(frames);
      const keys = layer.frames.flatMap((f, i) => (f.some((n) => (n[0]! & 0x1f) === 5) ? [i] : []));
      expect(keys).toEqual(Array.from({ length: media.seconds / 2 }, (_, k) => k * media.fps * 2));
      expect(layer.frames[0]!.map((n) => n[0]! & 0x1f)).toEqual([7, 8, 5]);
      // Constrained baseline, level 3.1: what the routers' 42e01f accepts.
      expect(layer.frames[0]![0]!.subarray(1, 4).toString('hex')).toBe('42c01f');
    }
    expect(media.opus).toHaveLength(media.seconds * 50);
  });
});
