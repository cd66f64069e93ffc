import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '../src/MediaNode';
import { connect, controlToken, rawSocket, refusal, testConfig, token } from './helpers';
import { TestFleet } from './fleet-helpers';

const OPUS = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 22222222 }] };

/** End Live as the control plane does it: POST /control/rooms/:id/close on a node. */
async function endLive(node: MediaNode, sid: string): Promise<void> {
  const response = await fetch(`${node.controlUrl}/control/rooms/${sid}/close`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await controlToken('room:close', node.config.SFU_NODE_ID)}` },
  });
  expect(response.status).toBe(204);
}

/** A host connected with `hostToken`, producing audio: the live as it runs. */
async function hostLive(node: MediaNode, hostToken: string) {
  const host = await connect(node.url, `token=${hostToken}`);
  await host.request('join', { rtpCapabilities: await host.request('getRouterRtpCapabilities') });
  const send = (await host.request('createWebRtcTransport', { direction: 'send' })) as { id: string };
  await host.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: OPUS });
  return host;
}

describe('a live that ended stays ended on the node, whatever tokens are still around', () => {
  let node: MediaNode;
  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
  });
  afterAll(() => node.close());

  it('after End Live the same host token cannot make the room again (410), nor a viewer token minted before', async () => {
    const hostToken = await token({ sid: 'ended-1', sub: 'host', role: 'host' });
    const viewerToken = await token({ sid: 'ended-1', sub: 'viewer' });
    const host = await hostLive(node, hostToken);
    const told = new Promise((resolve) => host.on('notification', (n) => n.method === 'roomClosed' && resolve(n.data)));
    await endLive(node, 'ended-1');
    expect(await told).toEqual({ reason: 'ended' });
    expect(await refusal(rawSocket(node.url, `token=${hostToken}`))).toBe(410);
    expect(await refusal(rawSocket(node.url, `token=${viewerToken}`))).toBe(410);
    expect(node.rooms.has('ended-1')).toBe(false);
    // Other lives are untouched.
    (await hostLive(node, await token({ sid: 'still-live', sub: 'host', role: 'host' }))).close();
  });

  it('ending a live whose room is not on this node (yet) refuses it too', async () => {
    await endLive(node, 'ended-2');
    expect(await refusal(rawSocket(node.url, `token=${await token({ sid: 'ended-2', sub: 'host', role: 'host' })}`))).toBe(410);
  });
});

describe('in a fleet, every node refuses an ended live (the registry holds it)', () => {
  const fleet = new TestFleet();
  afterAll(() => fleet.close());

  it('the control plane closes the origin only: the origin and every other node, even one started later, refuse', async () => {
    const a = await fleet.add('a', '127.0.0.11');
    const b = await fleet.add('b', '127.0.0.12');
    await fleet.setOrigin('f-ended', 'a');
    const hostToken = await token({ sid: 'f-ended', sub: 'host', role: 'host', node: 'a' });
    const viewerTokenB = await token({ sid: 'f-ended', sub: 'viewer', node: 'b' });
    const host = await hostLive(a, hostToken);
    await endLive(a, 'f-ended');
    await expect.poll(() => host.closed).toBe(true);
    expect(await refusal(rawSocket(a.url, `token=${hostToken}`))).toBe(410);
    expect(await refusal(rawSocket(b.url, `token=${viewerTokenB}`))).toBe(410);
    const c = await fleet.add('c', '127.0.0.13');
    expect(await refusal(rawSocket(c.url, `token=${await token({ sid: 'f-ended', sub: 'host', role: 'host', node: 'c' })}`))).toBe(410);
    expect(b.rooms.has('f-ended') || c.rooms.has('f-ended')).toBe(false);
  });
});
