import { randomStem } from '@podlive/shared/testing/handles';
import type { StageSuggestion } from '@podlive/shared/stage';
import { describe, expect, it } from 'vitest';
import { bearer, signUp } from '../accounts/harness';
import { createLive, startLive } from '../live/harness';
import { codeOf, invite, stageSuite, watch } from '../stage/harness';
import { send } from './harness';

const suite = stageSuite({ maxGuests: 2, inviteTtlMs: 10_000 });

describe('blocks and the stage', () => {
  it('a host cannot invite someone they blocked (INVITEE_BLOCKED) until they unblock them', async () => {
    const host = await signUp(suite.app);
    const viewer = await signUp(suite.app);
    const sessionId = await createLive(suite.app, host);
    await startLive(suite.app, host, sessionId);
    suite.closers.push((await watch(suite.app, suite.node, viewer, sessionId)).close);

    await send(suite.app, 'POST', `/api/users/${viewer.id}/block`, host);
    const refused = await invite(suite.app, host, sessionId, viewer.handle);
    expect(codeOf(refused)).toEqual([403, 'INVITEE_BLOCKED']);
    expect(refused.json().error.message).toMatch(/blocked/);

    await send(suite.app, 'DELETE', `/api/users/${viewer.id}/block`, host);
    expect((await invite(suite.app, host, sessionId, viewer.handle)).statusCode).toBe(201);
  });

  it('the host’s invite suggestions leave out watchers the host blocked and watchers who blocked the host', async () => {
    const host = await signUp(suite.app);
    const sessionId = await createLive(suite.app, host);
    await startLive(suite.app, host, sessionId);
    const tag = randomStem('zb', ['_a', '_b', '_c']);
    const blockedByHost = await signUp(suite.app, { handle: `${tag}_a` });
    const blockerOfHost = await signUp(suite.app, { handle: `${tag}_b` });
    const welcome = await signUp(suite.app, { handle: `${tag}_c` });
    for (const viewer of [blockedByHost, blockerOfHost, welcome]) suite.closers.push((await watch(suite.app, suite.node, viewer, sessionId)).close);
    const suggested = async () => {
      const response = await suite.app.inject({ method: 'GET', url: `/api/stage/${sessionId}/suggestions?q=${tag}`, headers: bearer(host.accessToken) });
      expect(response.statusCode).toBe(200);
      return (response.json() as StageSuggestion[]).map((s) => s.id).sort();
    };
    expect(await suggested()).toEqual([blockedByHost.id, blockerOfHost.id, welcome.id].sort());

    expect((await send(suite.app, 'POST', `/api/users/${blockedByHost.id}/block`, host)).statusCode).toBe(200);
    expect((await send(suite.app, 'POST', `/api/users/${host.id}/block`, blockerOfHost)).statusCode).toBe(200);
    expect(await suggested()).toEqual([welcome.id]);
  });
});
