import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type protooClient from 'protoo-client';
import { randomUUID } from 'node:crypto';
import { signMediaToken, type MediaClaims } from '@podlive/shared/tokens';
import { testKeyPair } from '@podlive/shared/testing/keys';
import type { ControlPeers } from '@podlive/shared/control';
import { MediaNode } from '../src/MediaNode';
import { connect, controlToken, KEYS, rejection, testConfig, token } from './helpers';
import { startControlPlane, type ControlPlane } from './control-plane';

const OPUS = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 11111111 }] };

describe('the stage on the node: guest grants, forged requests, host mute and removal', () => {
  let node: MediaNode;
  let plane: ControlPlane;
  beforeAll(async () => {
    plane = await startControlPlane();
    node = await MediaNode.start(await testConfig({ SERVER_URL: plane.url }));
  });
  afterAll(async () => {
    await node.close();
    await plane.close();
  });

  /** A guest grant whose invite the control plane says is accepted (unless `accepted` is false). */
  const grant = async (claims: Partial<MediaClaims> = {}, key = KEYS.privateKey, accepted = true) => {
    const jti = claims.jti ?? randomUUID();
    if (accepted) plane.accepted.add(jti);
    return signMediaToken(key, { sid: 'stage', sub: 'guest-1', role: 'guest', node: 'node-t', ...claims, jti }, 60);
  };
  async function joined(claims: Partial<MediaClaims>): Promise<protooClient.Peer> {
    const peer = await connect(node.url, `token=${await token({ sid: 'stage', ...claims })}`);
    await peer.request('join', { rtpCapabilities: await peer.request('getRouterRtpCapabilities') });
    return peer;
  }
  const produce = async (peer: protooClient.Peer, transportId?: string) => {
    const id = transportId ?? ((await peer.request('createWebRtcTransport', { direction: 'send' })) as { id: string }).id;
    return (await peer.request('produce', { transportId: id, kind: 'audio', rtpParameters: OPUS })) as { id: string };
  };
  const control = async (path: string, body?: object) =>
    fetch(`${node.controlUrl}/control/rooms/stage${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${await controlToken(body ? 'room:moderate' : 'room:read')}`, ...(body ? { 'content-type': 'application/json' } : {}) },
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
    expect(await refused(await grant({}, testKeyPair().privateKey))).toMatch(/refused/);
    // Signed right, but its invite no longer stands at the control plane.
    expect(await refused(await grant({}, KEYS.privateKey, false))).toMatch(/no longer invited/);
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

  it('a guest grant never opens a connection by itself (only upgradeToGuest redeems it)', async () => {
    await expect(connect(node.url, `token=${await grant({ sub: 'guest-c' })}`)).rejects.toThrow(/refused/);
  });

  it('asks the control plane with the grant’s id; a failing control plane is 503 and the grant can be tried again', async () => {
    const guest = await joined({ sub: 'guest-u' });
    const jti = randomUUID();
    const ticket = await grant({ sub: 'guest-u', jti });
    plane.failing = true;
    try {
      expect(await rejection(guest.request('upgradeToGuest', { token: ticket }))).toMatchObject({ code: 503 });
    } finally {
      plane.failing = false;
    }
    expect(await guest.request('upgradeToGuest', { token: ticket })).toEqual({ role: 'guest' });
    expect(plane.checks.at(-1)).toEqual({ sessionId: 'stage', userId: 'guest-u', grantId: jti, nodeId: 'node-t' });
    guest.close();
  });

  it('a revocation before the guest redeems refuses the grant, even when the control plane still says yes', async () => {
    const guest = await joined({ sub: 'guest-r' });
    const ticket = await grant({ sub: 'guest-r' });
    // The node compares whole seconds (iat): revoke in a later second than the grant was signed in.
    const iat = JSON.parse(Buffer.from(ticket.split('.')[1] as string, 'base64url').toString()).iat as number;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (iat + 1) * 1000 - Date.now())));
    expect((await control('/users/guest-r/revoke', { reason: 'left' })).status).toBe(204);
    expect((await rejection(guest.request('upgradeToGuest', { token: ticket }))).message).toMatch(/taken off the stage/);
    // A grant signed after the revocation works.
    expect(await guest.request('upgradeToGuest', { token: await grant({ sub: 'guest-r' }) })).toEqual({ role: 'guest' });
    guest.close();
  });

  it('a removal that arrives while the control plane is asked wins over its yes', async () => {
    const guest = await joined({ sub: 'guest-x' });
    const ticket = await grant({ sub: 'guest-x' });
    const release = plane.hold();
    const checks = plane.checks.length;
    const upgrade = rejection(guest.request('upgradeToGuest', { token: ticket }));
    await expect.poll(() => plane.checks.length).toBe(checks + 1);
    expect((await control('/users/guest-x/revoke', { reason: 'removed' })).status).toBe(204);
    release();
    expect((await upgrade).message).toMatch(/taken off the stage/);
    expect((await peersNow()).find((p) => p.userId === 'guest-x')).toMatchObject({ role: 'viewer', producers: [] });
    guest.close();
  });

  it('a guest muted by the host cannot unmute by re-creating the producer: it starts paused until the host unmutes', async () => {
    const guest = await joined({ sub: 'guest-m' });
    await guest.request('upgradeToGuest', { token: await grant({ sub: 'guest-m' }) });
    const transport = ((await guest.request('createWebRtcTransport', { direction: 'send' })) as { id: string }).id;
    const first = await produce(guest, transport);
    expect((await control('/users/guest-m/mute', { muted: true })).status).toBe(204);
    await guest.request('closeProducer', { producerId: first.id });
    const second = await produce(guest, transport);
    expect((await peersNow()).find((p) => p.userId === 'guest-m')).toMatchObject({ mutedByHost: true, producers: [{ id: second.id, paused: true }] });
    expect(await rejection(guest.request('resumeProducer', { producerId: second.id }))).toMatchObject({ code: 403, message: 'muted by the host' });
    expect((await control('/users/guest-m/mute', { muted: false })).status).toBe(204);
    expect((await peersNow()).find((p) => p.userId === 'guest-m')).toMatchObject({ mutedByHost: false, producers: [{ id: second.id, paused: false }] });
    guest.close();
  });
});
