import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { MediaNode } from '../src/MediaNode';
import { connect, rejection, testConfig, token } from './helpers';

describe('MediaNode signalling', () => {
  let node: MediaNode;

  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
  });
  afterAll(() => node.close());

  it('refuses a connection without a token, with a forged one, an expired one or one for another node', async () => {
    await expect(connect(node.url, '')).rejects.toThrow('refused');
    await expect(connect(node.url, `token=${await token({}, testKeyPair().privateKey)}`)).rejects.toThrow('refused');
    await expect(connect(node.url, `token=${await token({}, undefined, -10)}`)).rejects.toThrow('refused');
    await expect(connect(node.url, `token=${await token({ node: 'node-other' })}`)).rejects.toThrow('refused');
    expect(node.rooms.size).toBe(0);
  });

  it('puts a valid token in the room it names, with its role', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'room-a', role: 'host', sub: 'host-a' })}`);
    const caps = await peer.request('getRouterRtpCapabilities');
    expect(caps.codecs.map((c: { mimeType: string }) => c.mimeType)).toEqual(expect.arrayContaining(['audio/opus', 'video/H264']));
    const joined = await peer.request('join', { rtpCapabilities: caps });
    expect(joined).toMatchObject({ role: 'host', producers: [] });
    expect(node.rooms.get('room-a')?.peers.size).toBe(1);
    peer.close();
  });

  it('two peers arriving together share one room', async () => {
    const [a, b] = await Promise.all([
      connect(node.url, `token=${await token({ sid: 'room-b', sub: 'a' })}`),
      connect(node.url, `token=${await token({ sid: 'room-b', sub: 'b' })}`),
    ]);
    await expect.poll(() => node.rooms.get('room-b')?.peers.size).toBe(2);
    a.close();
    b.close();
    // The last peer leaving closes the room.
    await expect.poll(() => node.rooms.has('room-b')).toBe(false);
  });

  it('a viewer cannot open a send transport or produce; bad requests get 400 and change nothing', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'room-c', role: 'viewer' })}`);
    expect(await rejection(peer.request('createWebRtcTransport', { direction: 'send' }))).toMatchObject({ code: 403 });
    expect(await rejection(peer.request('produce', { transportId: 'x', kind: 'audio', rtpParameters: {} }))).toMatchObject({ code: 403 });
    expect(await rejection(peer.request('noSuchMethod', {}))).toMatchObject({ code: 400, message: expect.stringMatching(/unknown method/) });
    expect(await rejection(peer.request('createWebRtcTransport', { direction: 'sideways' }))).toMatchObject({ code: 400 });
    expect(await rejection(peer.request('consume', { producerId: 'p', transportId: 't' }))).toMatchObject({ code: 400, message: 'join first' });
    const recv = await peer.request('createWebRtcTransport', { direction: 'recv' });
    expect(recv.iceCandidates.map((c: { protocol: string }) => c.protocol).sort()).toEqual(['tcp', 'udp']);
    expect(await rejection(peer.request('connectWebRtcTransport', { transportId: recv.id, dtlsParameters: { role: 'client', fingerprints: 'nope' } }))).toMatchObject({ code: 400 });
    expect(node.rooms.get('room-c')?.peers.values().next().value?.transports.size).toBe(1);
    peer.close();
  });

  it('reports its workers and rooms on /health', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'room-d' })}`);
    const body = (await (await fetch(`${node.controlUrl}/health`)).json()) as { workers: unknown[] };
    expect(body).toMatchObject({ status: 'ok', service: 'sfu', nodeId: 'node-t', rooms: 1, peers: 1 });
    expect(body.workers).toHaveLength(1);
    expect(body.workers[0]).toMatchObject({ index: 0, routers: 1 });
    peer.close();
  });
});
