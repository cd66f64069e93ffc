/**
 * Stage invite: N viewers watch a live (protoo on the node with a token from the API) and hold a
 * /ws; the host invites all N by @handle at the same moment; delay = POST /api/stage/invite sent →
 * the viewer's stage_invite event (what opens the incoming-call modal) received.
 */
import type { Socket } from 'node:net';
import { goLive, rawUpgrade, signUp, viewerToken, type Account } from './lib/client';
import { writeResult } from './lib/result';
import { startServerProcess } from './lib/server-process';
import { summarize, until } from './lib/stats';

const N = 100;
const t0 = performance.now();
const server = await startServerProcess();
const host = await signUp(server.url, server.outbox);
const live = await goLive(server.url, host);
const sockets: Socket[] = [];
const viewers: Account[] = [];
for (let i = 0; i < N; i += 10) viewers.push(...(await Promise.all(Array.from({ length: 10 }, () => signUp(server.url, server.outbox)))));
const arrivals = new Map<string, number>();
for (let i = 0; i < N; i += 20) {
  await Promise.all(viewers.slice(i, i + 20).map(async (v) => {
    const join = await viewerToken(server.url, live.id, v.accessToken);
    sockets.push(await rawUpgrade(`${join.url}/?token=${encodeURIComponent(join.token)}`, {}, 'protoo'));
    const ws = await rawUpgrade(`${server.url.replace(/^http/, 'ws')}/ws`, { authorization: `Bearer ${v.accessToken}` });
    ws.on('data', (chunk: Buffer) => {
      if (!arrivals.has(v.id) && chunk.includes('stage_invite')) arrivals.set(v.id, performance.now());
    });
    sockets.push(ws);
  }));
}
await new Promise((r) => setTimeout(r, 1000)); // the node has seen every viewer
const sent = new Map<string, number>();
const statuses = await Promise.all(viewers.map((v) => {
  sent.set(v.id, performance.now());
  return fetch(`${server.url}/api/stage/invite`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${host.accessToken}` },
    body: JSON.stringify({ sessionId: live.id, handle: v.handle }),
  }).then((r) => r.status);
}));
await until(() => (arrivals.size === N ? true : undefined), 'every stage_invite', 15_000).catch(() => undefined);
const delays = viewers.map((v) => (arrivals.get(v.id) ?? NaN) - (sent.get(v.id) ?? NaN));
for (const s of sockets) s.destroy();
await server.stop();
const inviteToEvent = summarize(delays);
process.stderr.write(`[stage] invite → event ${JSON.stringify(inviteToEvent)}; statuses ${[...new Set(statuses)].join(',')}\n`);
await writeResult({
  name: 'stage',
  title: 'Stage invite',
  method: `The server app in its own process (fresh PostgreSQL database, in-process media node with 1 worker). ${N} registered viewers each take a viewer token from GET /api/live/:id/token, open protoo on the node with it (so the control plane sees them watching) and a /ws with their access token. The host sends ${N} POST /api/stage/invite at the same moment (one per @handle, over HTTP); delay = request sent → first /ws frame containing stage_invite at that viewer (the event that opens the incoming-call modal). All ${N} at once is the worst case; the sequential case is faster.`,
  // accept → guest audio at a viewer: stage-accept.ts (Chromium).
  notMeasured: [],
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: { n: N, invitesAccepted: statuses.filter((s) => s === 201).length, eventsReceived: arrivals.size, inviteToEventMs: inviteToEvent },
});
process.exit(0);
