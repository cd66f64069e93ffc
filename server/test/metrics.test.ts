import type { StageInvite } from '@podlive/shared/stage';
import { describe, expect, it } from 'vitest';
import { signUp } from './accounts/harness';
import { chat } from './chat/harness';
import { createLive, startLive } from './live/harness';
import { answer, invite, nextOf, openUserWs, stageSuite, watch } from './stage/harness';

const suite = stageSuite({ maxGuests: 1, inviteTtlMs: 10_000 });

/** The registry's text, as Prometheus scrapes it. */
const scrape = () => suite.app.metrics.registry.metrics();
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('the control plane’s metrics', () => {
  it('count /ws connections and viewers, stage invites by outcome with their delivery time, chat messages and refusals, lives by state, requests by route', async () => {
    const host = await signUp(suite.app, { displayName: 'The Host' });
    const viewer = await signUp(suite.app, { displayName: 'Vera Viewer' });
    const sessionId = await createLive(suite.app, host);
    const before = await scrape();
    await startLive(suite.app, host, sessionId);
    suite.closers.push((await watch(suite.app, suite.node, viewer, sessionId)).close);
    const [tab, studio] = await Promise.all([openUserWs(suite.app, viewer), openUserWs(suite.app, host)]);
    suite.closers.push(tab.close, studio.close);
    await tab.subscribe(sessionId, true);
    await studio.subscribe(sessionId);

    const sent = await invite(suite.app, host, sessionId, viewer.handle);
    expect(sent.statusCode).toBe(201);
    const created = sent.json().invite as StageInvite;
    await nextOf(tab, 'stage_invite');
    expect((await answer(suite.app, viewer, created.id, 'accept')).statusCode).toBe(200);
    expect(await chat(tab, sessionId, 'hello')).toMatchObject({ type: 'chat_ack' });
    const other = await createLive(suite.app, host);
    expect(await chat(tab, other, 'too early')).toMatchObject({ type: 'chat_refused', code: 'CHAT_CLOSED' });

    const text = await scrape();
    expect(value(text, 'podlive_ws_connections')).toBe(2);
    expect(value(text, 'podlive_viewers')).toBe(1);
    expect(value(text, `podlive_live_viewers{session="${sessionId}"}`)).toBe(1);
    expect(value(text, 'podlive_lives{state="live"}')).toBe(value(before, 'podlive_lives{state="live"}')! + 1);
    expect(value(text, 'podlive_stage_invites_total{outcome="sent"}')).toBe(1);
    expect(value(text, 'podlive_stage_invites_total{outcome="accepted"}')).toBe(1);
    expect(value(text, 'podlive_stage_invite_delivery_seconds_count')).toBe(1);
    // Delivered in well under the 5 s bucket on any machine; the sum is the one delivery's age.
    expect(value(text, 'podlive_stage_invite_delivery_seconds_bucket{le="5"}')).toBe(1);
    expect(value(text, 'podlive_chat_messages_total')).toBe(1);
    expect(value(text, 'podlive_chat_refusals_total{reason="CHAT_CLOSED"}')).toBe(1);
    expect(value(text, 'podlive_http_request_duration_seconds_count{route="/api/stage/invite",method="POST",status="201"}')).toBe(1);
    expect(value(text, 'podlive_http_request_duration_seconds_count{route="/api/stage/invite/:id/accept",method="POST",status="200"}')).toBe(1);
    expect(value(text, 'podlive_db_ping_seconds')).toBeGreaterThan(0);
    expect(value(text, 'podlive_redis_ping_seconds')).toBeGreaterThanOrEqual(0);
    // Routes are patterns: no live, user or invite id in any HTTP label.
    const httpLines = text.split('\n').filter((l) => l.startsWith('podlive_http_'));
    expect(httpLines.length).toBeGreaterThan(0);
    for (const id of [sessionId, created.id, host.id, viewer.id]) expect(httpLines.filter((l) => l.includes(id))).toEqual([]);
  });
});
