import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { types } from 'mediasoup';
import type protooClient from 'protoo-client';
import { MediaNode } from '../src/MediaNode';
import { estimatesBandwidth, LayerFloor, lowestLayerBitrate } from '../src/viewer-layers';
import { HostPeer } from '../load/host-peer';
import { receiveCapabilities } from '../load/wire';
import { KEYS, connect, testConfig, token } from './helpers';

const H264 = { mimeType: 'video/H264', payloadType: 102, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f' } };

/**
 * What a viewer's consumers of layered video start with on the node: no client media flows here
 * (the producers get no RTP), only the node's decisions are read, through the real handlers.
 */
describe('viewer layers: where a layered consumer starts, and the floor under its transport', () => {
  let node: MediaNode;
  let host: HostPeer;
  let simulcast: types.Producer;
  let single: types.Producer;
  const peers: protooClient.Peer[] = [];

  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
    host = await HostPeer.join({ node, session: 'room-1', key: KEYS.privateKey });
    simulcast = await host.produce('video', { codecs: [H264], encodings: [{ ssrc: 1001, maxBitrate: 150_000 }, { ssrc: 1002, maxBitrate: 500_000 }, { ssrc: 1003, maxBitrate: 1_500_000 }] });
    single = await host.produce('video', { codecs: [H264], encodings: [{ ssrc: 2001, maxBitrate: 800_000 }] });
  });
  afterAll(async () => {
    for (const peer of peers) peer.close();
    host.close();
    await node.close();
  });

  /** A viewer that joins with `caps` (from the router's) and consumes every video producer on one receive transport. */
  async function viewer(sub: string, caps: (router: types.RtpCapabilities) => unknown) {
    const peer = await connect(node.url, `token=${encodeURIComponent(await token({ sub }))}`);
    peers.push(peer);
    const routerCaps = (await peer.request('getRouterRtpCapabilities')) as types.RtpCapabilities;
    await peer.request('join', { rtpCapabilities: caps(routerCaps) });
    const { id: transportId } = (await peer.request('createWebRtcTransport', { direction: 'recv' })) as { id: string };
    const ids: Record<string, string> = {};
    for (const producer of [simulcast, single]) ids[producer.id] = ((await peer.request('consume', { producerId: producer.id, transportId })) as { id: string }).id;
    const nodePeer = [...node.rooms.get('room-1')!.peers.values()].find((p) => p.claims.sub === sub)!;
    const consumerOf = (producer: types.Producer) => nodePeer.consumers.get(ids[producer.id]!)!;
    return { peer, consumerOf, transport: nodePeer.transport(transportId) };
  }

  it('the lowest layer of a layered producer is its smallest cap; a single stream has none', () => {
    expect(lowestLayerBitrate(simulcast)).toBe(150_000);
    expect(lowestLayerBitrate(single)).toBe(0);
  });

  it('a viewer that answers bandwidth estimation starts at the lowest layer; one that does not, at the top', async () => {
    const browserLike = await viewer('bwe-viewer', (router) => router);
    const headless = await viewer('plain-viewer', receiveCapabilities);
    const routerCaps = node.rooms.get('room-1')!.router.rtpCapabilities;
    expect([estimatesBandwidth(routerCaps), estimatesBandwidth(receiveCapabilities(routerCaps) as types.RtpCapabilities)]).toEqual([true, false]);
    expect(browserLike.consumerOf(simulcast).preferredLayers?.spatialLayer).toBe(0);
    expect(headless.consumerOf(simulcast).preferredLayers?.spatialLayer).toBe(2);
  });

  it("a receive transport's floor is the lowest layers of the layered video it carries, with headroom, and drops with its consumers", async () => {
    const { transport, consumerOf } = await viewer('floor-viewer', (router) => router);
    const floor = transport.appData.floor as LayerFloor;
    expect(floor).toBeInstanceOf(LayerFloor);
    // The single-stream producer adds nothing: mediasoup sends it whatever the estimate.
    expect(floor.bitrate).toBe(150_000 * 1.25);
    consumerOf(simulcast).close();
    expect(floor.bitrate).toBe(0);
  });
});
