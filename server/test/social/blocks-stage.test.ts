import { describe, expect, it } from 'vitest';
import { signUp } from '../accounts/harness';
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
});
