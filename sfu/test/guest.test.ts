import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type protooClient from 'protoo-client';
import { randomUUID } from 'node:crypto';
import { signControlToken, signMediaToken, type MediaClaims } from '@podlive/shared/tokens';
import type { ControlPeers } from '@podlive/shared/control';
import { MediaNode } from '../src/MediaNode';
import { connect, rejection, SECRET, testConfig, token } from './helpers';

const OPUS = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 11111111 }] };
const grant = (claims: Partial<MediaClaims> = {}, secret = SECRET) =>
  signMediaToken(secret, { sid: 'stage', sub: 'guest-1', role: 'guest', node: 'node-t', jti: randomUUID(), ...claims }, 60);

describe('the stage on the node: guest grants, forged requests, host mute and removal', () => {
  let node: MediaNode;
  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
  });
  afterAll(() => node.close());

  async function joined(claims: Partial<MediaClaims>): Promise<protooClient.Peer> {
    const peer = await connect(node.url, `token=${await token({ sid: 'stage', ...claims })}`);
    await peer.request('join', { rtpCapabilities: await peer.request('getRouterRtpCapabilities') });
    return peer;
  }
  const produce = async (peer: protooClient.Peer) => {
    const transport = await peer.request('createWebRtcTransport', { direction: 'send' });
    return (await peer.request('produce', { transportId: transport.id, kind: 'audio', rtpParameters: OPUS })) as { id: string };
  };
  const control = async (path: string, body?: object) =>
    fetch(`${node.url}/control/rooms/stage${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${await signControlToken(SECRET, 'node-t')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
  const peersNow = async () => ((await (await control('/peers')).json()) as ControlPeers).peers;

  it('a plain viewer cannot produce, even with hand-crafted requests or forged grants', async () => {
    const viewer = await joined({ sub: 'guest-1', role: 'viewer' });
    expect(await rejection(viewer.request('createWebRtcTransport', { direction: 'send' }))).toMatchObject({ code: 403 });
    expect(await rejection(viewer.request('produce', { transportId: 'x', kind: 'audio', rtpParameters: OPUS }))).toMatchObject({ code: 403 });
    const refused = async (t: string) => (await rejection(viewer.request('upgradeToGuest', { token: t }))).message;
    expect(await refused(await token({ sid: 'stage', sub: 'guest-1', role: 'viewer' }))).toMatch(/not a guest grant/);
    expect(await refused(await grant({ sub: 'someone-else' }))).toMatch(/another user/);
    expect(await refused(await grant({ sid: 'other-live' }))).toMatch(/another session/);
    expect(await refused(await grant({ node: 'node-other' }))).toMatch(/refused/);
    expect(await refused(await grant({}, 'f'.repeat(40)))).toMatch(/refused/);
    expect((await peersNow()).find((p) => p.userId === 'guest-1')?.role).toBe('viewer');
    viewer.close();
  });

  it('a valid grant lets that viewer produce on its existing connection, once', async () => {
    const watcher = await joined({ sub: 'watcher' });
    const announced = new Promise<{ kind: string }>((resolve) => watcher.on('notification', (n) => n.method === 'newProducer' && resolve(n.data)));
    const guest = await joined({ sub: 'guest-1' });
    const ticket = await grant();
    expect(await guest.request('upgradeToGuest', { token: ticket })).toEqual({ role: 'guest' });
    await produce(guest);
    expect(await announced).toMatchObject({ kind: 'audio' });
    // The same grant in another tab is refused: single use.
    const tab = await joined({ sub: 'guest-1' });
    expect((await rejection(tab.request('upgradeToGuest', { token: ticket }))).message).toMatch(/already used/);
    for (const p of [watcher, guest, tab]) p.close();
  });

  it('the host mutes a guest (paused, cannot resume itself) and removes it (producers closed, viewer again)', async () => {
    const watcher = await joined({ sub: 'watcher-2' });
    const guest = await joined({ sub: 'guest-2' });
    const roles: string[] = [];
    const muted: boolean[] = [];
    guest.on('notification', (n) => {
      if (n.method === 'roleChanged') roles.push(`${n.data.role}:${n.data.reason ?? ''}`);
      if (n.method === 'mutedByHost') muted.push(n.data.muted);
    });
    await guest.request('upgradeToGuest', { token: await grant({ sub: 'guest-2' }) });
    const { id } = await produce(guest);

    expect((await control('/users/guest-2/mute', { muted: true })).status).toBe(204);
    expect((await peersNow()).find((p) => p.userId === 'guest-2')).toMatchObject({ mutedByHost: true, producers: [{ id, paused: true }] });
    expect(await rejection(guest.request('resumeProducer', { producerId: id }))).toMatchObject({ code: 403, message: 'muted by the host' });
    expect((await control('/users/guest-2/mute', { muted: false })).status).toBe(204);
    expect((await peersNow()).find((p) => p.userId === 'guest-2')).toMatchObject({ mutedByHost: false, producers: [{ id, paused: false }] });
    expect((await control('/users/nobody/mute', { muted: true })).status).toBe(404);

    const closed = new Promise((resolve) => watcher.on('notification', (n) => n.method === 'producerClosed' && n.data.producerId === id && resolve(true)));
    expect((await control('/users/guest-2/revoke', { reason: 'removed' })).status).toBe(204);
    expect(await closed).toBe(true);
    expect((await peersNow()).find((p) => p.userId === 'guest-2')).toMatchObject({ role: 'viewer', producers: [] });
    expect(await rejection(produce(guest))).toMatchObject({ code: 403 });
    await expect.poll(() => roles).toEqual(['guest:', 'viewer:removed']);
    expect(muted).toEqual([true, false]);
    // Control bodies are validated.
    expect((await control('/users/guest-2/mute', { muted: 'yes' })).status).toBe(400);
    watcher.close();
    guest.close();
  });
});
