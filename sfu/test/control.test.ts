import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { MediaNode } from '../src/MediaNode';
import { connect, controlToken, testConfig, token } from './helpers';

describe('control endpoint', () => {
  let node: MediaNode;
  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
  });
  afterAll(() => node.close());

  const close = (roomId: string, bearer?: string) =>
    fetch(`${node.controlUrl}/control/rooms/${roomId}/close`, { method: 'POST', headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('closes a room on a valid control token: its peers are told the live ended', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'live-1', role: 'viewer' })}`);
    const notified = new Promise((resolve) => peer.on('notification', (n) => n.method === 'roomClosed' && resolve(n.data)));
    const status = await fetch(`${node.controlUrl}/control/rooms/live-1`, { headers: { authorization: `Bearer ${await controlToken('room:read')}` } });
    expect(await status.json()).toEqual({ roomId: 'live-1', peers: { host: 0, guest: 0, viewer: 1, recorder: 0 } });
    const closed = new Promise<void>((resolve) => peer.on('close', () => resolve()));
    expect((await close('live-1', await controlToken('room:close'))).status).toBe(204);
    expect(await notified).toEqual({ reason: 'ended' });
    await closed;
    expect(node.rooms.has('live-1')).toBe(false);
    // Idempotent.
    expect((await close('live-1', await controlToken('room:close'))).status).toBe(204);
  });

  it('serves /health and /control on the internal listener only; the public port serves the WebSocket alone', async () => {
    expect(new URL(node.controlUrl).port).not.toBe(new URL(node.url).port);
    const bearer = { authorization: `Bearer ${await controlToken('room:read')}` };
    for (const [method, path] of [['GET', '/health'], ['GET', '/control/rooms/any'], ['POST', '/control/rooms/any/close'], ['GET', '/']] as const) {
      const response = await fetch(`${node.url}${path}`, { method, headers: bearer });
      expect(response.status, `${method} ${path} on the public port`).toBe(404);
      expect(JSON.stringify(await response.json())).not.toMatch(/pid/);
    }
    const health = await fetch(`${node.controlUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ service: 'sfu', pid: process.pid, workers: [expect.objectContaining({ pid: expect.any(Number) })] });
    expect((await fetch(`${node.controlUrl}/control/rooms/any`, { headers: bearer })).status).toBe(404);
    // Browsers reach the public port; the recorder may also use the internal one.
    for (const url of [node.url, node.controlUrl]) (await connect(url, `token=${await token({ sid: 'both-ports' })}`)).close();
  });

  it('refuses without a token, with a media token, for another node, another scope or another key: 401 UNAUTHENTICATED', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'live-2' })}`);
    const refusals = [
      undefined,
      await token({ sid: 'live-2', role: 'host' }),
      await controlToken('room:close', 'node-other'),
      await controlToken('room:read'),
      await controlToken('room:close', 'node-t', testKeyPair().privateKey),
    ];
    for (const bearer of refusals) {
      const response = await close('live-2', bearer);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.stringContaining('room:close') } });
    }
    expect(node.rooms.get('live-2')?.peers.size).toBe(1);
    peer.close();
  });
});
