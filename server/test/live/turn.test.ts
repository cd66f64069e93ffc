import type { MediaNode } from '@podlive/sfu';
import type { IceServer, MediaJoin } from '@podlive/shared/live';
import type { StageAcceptResponse } from '@podlive/shared/stage';
import { allocates, startCoturn, type Coturn } from '@podlive/shared/testing/coturn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iceServersFor } from '../../src/media/turn';
import { bearer, signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { answer, invite, watch } from '../stage/harness';
import { createLive, nodeEnv, startLive, startNode } from './harness';

const SECRET = 'a-turn-secret-of-at-least-32-characters';

let node: MediaNode;
let coturn: Coturn;
let h: Harness;
let host: Account;
let viewer: Account;
beforeAll(async () => {
  [node, coturn] = await Promise.all([startNode(), startCoturn(SECRET)]);
  h = await startHarness({}, { ...nodeEnv(node), TURN_URLS: `turn:127.0.0.1:${coturn.port}?transport=udp,turn:127.0.0.1:${coturn.port}?transport=tcp`, TURN_SECRET: SECRET });
  [host, viewer] = [await signUp(h.app, { displayName: 'Turn Host' }), await signUp(h.app, { displayName: 'Turn Viewer' })];
}, 30_000);
afterAll(async () => {
  await h?.close();
  await node?.close();
  await coturn?.close();
});

const expiryOf = (server: IceServer) => Number(server.username.split(':')[0]);

describe('TURN credentials (coturn, TURN REST API)', () => {
  it('come with every media token: the host, a viewer and a guest each get servers whose credentials coturn accepts, expiring with the token', { timeout: 90_000 }, async () => {
    const id = await createLive(h.app, host);
    const { join: hostJoin } = await startLive(h.app, host, id);
    const viewerJoin = (await h.app.inject({ method: 'GET', url: `/api/live/${id}/token`, headers: bearer(viewer.accessToken) })).json<MediaJoin>();
    const anonJoin = (await h.app.inject({ method: 'GET', url: `/api/live/${id}/token` })).json<MediaJoin>();
    // The viewer watches, is invited and accepts: the guest grant carries its own (for the send transport).
    const watching = await watch(h.app, node, viewer, id);
    const sent = await invite(h.app, host, id, viewer.handle);
    expect(sent.statusCode).toBe(201);
    const accepted = await answer(h.app, viewer, (sent.json() as { invite: { id: string } }).invite.id, 'accept');
    const { grant } = accepted.json() as StageAcceptResponse;
    watching.close();
    for (const [who, join] of [['host', hostJoin], ['viewer', viewerJoin], ['anonymous', anonJoin], ['guest', grant]] as const) {
      const [server] = join.iceServers;
      expect(join.iceServers, who).toHaveLength(1);
      expect(server!.urls).toEqual([`turn:127.0.0.1:${coturn.port}?transport=udp`, `turn:127.0.0.1:${coturn.port}?transport=tcp`]);
      // The token's lifetime (120 s; a guest grant's 60 s), give or take the time the test took.
      expect(expiryOf(server!) - Date.now() / 1000, who).toBeGreaterThan(who === 'guest' ? 40 : 100);
      expect(expiryOf(server!) - Date.now() / 1000, who).toBeLessThanOrEqual(who === 'guest' ? 61 : 121);
      expect(await allocates(coturn.port, server!.username, server!.credential), `${who} over TCP`).toBe(true);
    }
    expect(await allocates(coturn.port, viewerJoin.iceServers[0]!.username, viewerJoin.iceServers[0]!.credential, { udp: true }), 'over UDP').toBe(true);
    expect(viewerJoin.iceServers[0]!.username).toMatch(new RegExp(`^\\d+:${viewer.id}$`));
    // ':' separates coturn's expiry from the name: an anonymous viewer's `anon:` id is kept out of it.
    expect(anonJoin.iceServers[0]!.username).toMatch(/^\d+:anon-[\w-]+$/);
  });

  it('expire: coturn refuses a credential past its lifetime, and one made with another secret', { timeout: 60_000 }, async () => {
    const turn = { urls: [`turn:127.0.0.1:${coturn.port}`], secret: SECRET };
    const [fresh] = iceServersFor(turn, 'someone', 120);
    const [expired] = iceServersFor(turn, 'someone', 120, Date.now() - 121_000);
    const [forged] = iceServersFor({ ...turn, secret: 'another-secret-of-at-least-32-characters' }, 'someone', 120);
    expect(await allocates(coturn.port, fresh!.username, fresh!.credential)).toBe(true);
    expect(await allocates(coturn.port, expired!.username, expired!.credential)).toBe(false);
    expect(await allocates(coturn.port, forged!.username, forged!.credential)).toBe(false);
  });

  it('are absent when the deployment has no TURN', () => {
    expect(iceServersFor(null, 'someone', 120)).toEqual([]);
  });
});
