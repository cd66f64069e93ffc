import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type protooClient from 'protoo-client';
import { MEDIA_PEER_CREATE_RATE, MEDIA_PEER_LIMITS } from '@podlive/shared/protocol';
import { MediaNode } from '../src/MediaNode';
import { clientAddress } from '../src/signalling-server';
import { connect, rawSocket, refusal, testConfig, token } from './helpers';

const OPUS = (ssrc: number) => ({ codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] });

/** Fires `count` requests at once; how many were accepted, and the codes of the refused ones. */
async function burst(count: number, request: (i: number) => Promise<unknown>): Promise<{ accepted: number; codes: Set<number | undefined> }> {
  const results = await Promise.allSettled(Array.from({ length: count }, (_, i) => request(i)));
  const codes = new Set(results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: number }).code] : [])));
  return { accepted: results.filter((r) => r.status === 'fulfilled').length, codes };
}

describe('per-peer limits on the media plane', () => {
  let node: MediaNode;
  beforeAll(async () => {
    node = await MediaNode.start(await testConfig({ SFU_CONNECTS_PER_MINUTE: '5' }));
  });
  afterAll(() => node.close());

  const peerOnNode = (sid: string, sub: string) => [...(node.rooms.get(sid)?.peers.values() ?? [])].find((p) => p.claims.sub === sub);

  async function joined(sid: string, sub: string, role: 'host' | 'viewer', url = node.controlUrl): Promise<protooClient.Peer> {
    // The internal listener: these tests open more connections than the public port's rate limit lets through.
    const peer = await connect(url, `token=${await token({ sid, sub, role })}`);
    await peer.request('join', { rtpCapabilities: await peer.request('getRouterRtpCapabilities') });
    return peer;
  }

  it('a viewer firing 300 transport requests at once: a few are made, the rest refused with 429, and only one stays', async () => {
    const viewer = await joined('lim-t', 'v', 'viewer');
    const { accepted, codes } = await burst(300, () => viewer.request('createWebRtcTransport', { direction: 'recv' }));
    expect(accepted).toBeGreaterThanOrEqual(MEDIA_PEER_LIMITS.transports);
    expect(accepted).toBeLessThanOrEqual(MEDIA_PEER_CREATE_RATE.creations);
    expect([...codes]).toEqual([429]);
    // A new transport of a direction replaces the older ones: the client keeps one per direction.
    expect(peerOnNode('lim-t', 'v')?.transports.size).toBe(1);
    expect(node.pool.workers[0]?.worker.closed).toBe(false);
    viewer.close();
  });

  it('a client renewing its transport (as after a network change) keeps working, one transport per direction', async () => {
    const viewer = await joined('lim-t', 'renewer', 'viewer');
    const closed: string[] = [];
    viewer.on('notification', (n) => n.method === 'transportClosed' && closed.push(n.data.transportId));
    for (let i = 0; i < 6; i++) await viewer.request('createWebRtcTransport', { direction: 'recv' });
    expect(peerOnNode('lim-t', 'renewer')?.transports.size).toBe(1);
    // Replaced transports are not reported as lost (the client dropped them itself).
    expect(closed).toEqual([]);
    viewer.close();
  });

  it('caps producers and consumers per peer, with 429 beyond', async () => {
    const host = await joined('lim-c', 'h', 'host');
    const send = (await host.request('createWebRtcTransport', { direction: 'send' })) as { id: string };
    const produced = await burst(20, (i) => host.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: OPUS(1000 + i) }));
    expect(produced.accepted).toBe(MEDIA_PEER_LIMITS.producers);
    expect([...produced.codes]).toEqual([429]);
    expect(peerOnNode('lim-c', 'h')?.producers.size).toBe(MEDIA_PEER_LIMITS.producers);

    const viewer = await joined('lim-c', 'v', 'viewer');
    const recv = (await viewer.request('createWebRtcTransport', { direction: 'recv' })) as { id: string };
    const producerId = node.rooms.get('lim-c')?.producers.keys().next().value;
    const consumed = await burst(300, () => viewer.request('consume', { producerId, transportId: recv.id }));
    expect(consumed.accepted).toBe(MEDIA_PEER_LIMITS.consumers);
    expect([...consumed.codes]).toEqual([429]);
    expect(peerOnNode('lim-c', 'v')?.consumers.size).toBe(MEDIA_PEER_LIMITS.consumers);
    // Closing one frees its place.
    const [first] = peerOnNode('lim-c', 'v')?.consumers.keys() ?? [];
    await viewer.request('closeConsumer', { consumerId: first });
    await viewer.request('consume', { producerId, transportId: recv.id });
    viewer.close();
    host.close();
  });

  it('refuses new connections from one address beyond SFU_CONNECTS_PER_MINUTE on the public port (429)', async () => {
    const open = [];
    for (let i = 0; i < 5; i++) open.push(await rawSocket(node.url, `token=${await token({ sid: 'lim-r', sub: `v${i}` })}`));
    expect(await refusal(rawSocket(node.url, `token=${await token({ sid: 'lim-r', sub: 'v6' })}`))).toBe(429);
    // Even without a valid token: the limit comes first.
    expect(await refusal(rawSocket(node.url, 'token=nonsense'))).toBe(429);
    // The internal listener (control plane, recorder) is not limited.
    (await rawSocket(node.controlUrl, `token=${await token({ sid: 'lim-r', sub: 'rec' })}`)).close();
    // Through the TLS proxy on this host every connection comes from loopback: each counts for the
    // address the proxy names last in X-Forwarded-For, so one busy address does not block the rest.
    const behindProxy = { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' };
    open.push(await rawSocket(node.url, `token=${await token({ sid: 'lim-r', sub: 'v7' })}`, behindProxy));
    for (let i = 0; i < 4; i++) open.push(await rawSocket(node.url, `token=${await token({ sid: 'lim-r', sub: `w${i}` })}`, behindProxy));
    expect(await refusal(rawSocket(node.url, 'token=nonsense', behindProxy))).toBe(429);
    for (const socket of open) socket.close();
  });

  it('takes a forwarded address only from a connection of this host', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1, 203.0.113.7')).toBe('203.0.113.7');
    expect(clientAddress('::ffff:127.0.0.1', ['203.0.113.8'])).toBe('203.0.113.8');
    expect(clientAddress('127.0.0.1', undefined)).toBe('127.0.0.1');
    expect(clientAddress('192.0.2.9', '203.0.113.7')).toBe('192.0.2.9');
  });
});
