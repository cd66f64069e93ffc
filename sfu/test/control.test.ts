import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signControlToken } from '@podlive/shared/tokens';
import { MediaNode } from '../src/MediaNode';
import { connect, SECRET, testConfig, token } from './helpers';

describe('control endpoint', () => {
  let node: MediaNode;
  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
  });
  afterAll(() => node.close());

  const close = (roomId: string, bearer?: string) =>
    fetch(`${node.url}/control/rooms/${roomId}/close`, { method: 'POST', headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

  it('closes a room on a valid control token: its peers are told the live ended', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'live-1', role: 'viewer' })}`);
    const notified = new Promise((resolve) => peer.on('notification', (n) => n.method === 'roomClosed' && resolve(n.data)));
    const status = await fetch(`${node.url}/control/rooms/live-1`, { headers: { authorization: `Bearer ${await signControlToken(SECRET, 'node-t')}` } });
    expect(await status.json()).toEqual({ roomId: 'live-1', peers: { host: 0, guest: 0, viewer: 1, recorder: 0 } });
    const closed = new Promise<void>((resolve) => peer.on('close', () => resolve()));
    expect((await close('live-1', await signControlToken(SECRET, 'node-t'))).status).toBe(204);
    expect(await notified).toEqual({ reason: 'ended' });
    await closed;
    expect(node.rooms.has('live-1')).toBe(false);
    // Idempotent.
    expect((await close('live-1', await signControlToken(SECRET, 'node-t'))).status).toBe(204);
  });

  it('refuses without a token, with a media token, with a control token for another node', async () => {
    const peer = await connect(node.url, `token=${await token({ sid: 'live-2' })}`);
    expect((await close('live-2')).status).toBe(401);
    expect((await close('live-2', await token({ sid: 'live-2', role: 'host' }))).status).toBe(401);
    expect((await close('live-2', await signControlToken(SECRET, 'node-other'))).status).toBe(401);
    expect((await close('live-2', await signControlToken('x'.repeat(40), 'node-t'))).status).toBe(401);
    expect(node.rooms.get('live-2')?.peers.size).toBe(1);
    peer.close();
  });
});
