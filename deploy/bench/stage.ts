/**
 * Stage invite: N viewers watch a live (protoo on the node with a token from the API) and hold a
 * /ws; the host invites all N by @handle at the same moment; delay = POST /api/stage/invite sent →
 * the viewer's stage_invite event (what opens the incoming-call modal) received.
 */
import type { Socket } from 'node:net';
import { loadavg } from 'node:os';
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
viewers.push(await signUp(server.url, server.outbox)); // the warm-up's
const arrivals = new Map<string, number>();
for (let i = 0; i < viewers.length; i += 20) {
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
const invite = (v: Account) => fetch(`${server.url}/api/stage/invite`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${host.accessToken}` },
  body: JSON.stringify({ sessionId: live.id, handle: v.handle }),
}).then((r) => r.status);
// One invite before the burst, as a server that has run a while has served some: the first
// request to a media node compiles undici's HTTP parser (WebAssembly, ~50 ms once per process).
const [warmup] = viewers.splice(N);
if ((await invite(warmup!)) !== 201) throw new Error('the warm-up invite failed');
// The floor: N simultaneous GET /api/users/me by the host (authentication and one query), the
// least an API request costs here, on open connections: a first burst opens those the invites then
// reuse too, as the host's browser (through the proxy) has them open; the second is measured.
const meBurst = () => Promise.all(Array.from({ length: N }, async () => {
  const at = performance.now();
  const r = await fetch(`${server.url}/api/users/me`, { headers: { authorization: `Bearer ${host.accessToken}` } });
  if (r.status !== 200) throw new Error(`GET /api/users/me answered ${r.status}`);
  await r.arrayBuffer();
  return performance.now() - at;
}));
await meBurst();
const floor = summarize(await meBurst());
// BENCH_PROFILE=file.cpuprofile: the server's CPU profile of the burst (for DevTools).
if (process.env.BENCH_PROFILE) await server.profile(process.env.BENCH_PROFILE);
const cpuBefore = await server.cpuMs();
const loadBefore = loadavg()[0]!;
const sent = new Map<string, number>();
const statuses = await Promise.all(viewers.map((v) => {
  sent.set(v.id, performance.now());
  return invite(v);
}));
await until(() => (viewers.every((v) => arrivals.has(v.id)) ? true : undefined), 'every stage_invite', 15_000).catch(() => undefined);
const serverCpuMs = (await server.cpuMs()) - cpuBefore;
const load1 = Math.max(loadBefore, loadavg()[0]!);
if (process.env.BENCH_PROFILE) await server.profile(null);
const delays = viewers.map((v) => (arrivals.get(v.id) ?? NaN) - (sent.get(v.id) ?? NaN));
for (const s of sockets) s.destroy();
await server.stop();
const inviteToEvent = summarize(delays);
process.stderr.write(`[stage] invite → event ${JSON.stringify(inviteToEvent)}; the floor (${N} × GET /api/users/me at once) ${JSON.stringify(floor)}; server CPU ${(serverCpuMs / N).toFixed(2)} ms per invite; load ${load1.toFixed(2)}; statuses ${[...new Set(statuses)].join(',')}\n`);
await writeResult({
  name: 'stage',
  title: 'Stage invite',
  method: `The server app in its own process (fresh PostgreSQL database, in-process media node with 1 worker). ${N} registered viewers each take a viewer token from GET /api/live/:id/token, open protoo on the node with it (so the control plane sees them watching) and a /ws with their access token. The host sends ${N} POST /api/stage/invite at the same moment (one per @handle, over HTTP); delay = request sent → first /ws frame containing stage_invite at that viewer (the event that opens the incoming-call modal). One invite goes first (a server that has run a while has served some: the first call to a media node compiles undici's HTTP parser, ~50 ms once per process). All ${N} at once is the worst case; the sequential case is faster. Before it, the floor: ${N} simultaneous GET /api/users/me by the host (authentication and one query, the least an API request costs), request → response, on open connections (a first such burst opens them, and the invites reuse them, as a host's browser has them open). Beside the figures: the server process's CPU time per invite (process.cpuUsage over the burst) and the machine's 1-minute load average (this 2-core machine is shared).`,
  // accept → guest audio at a viewer: stage-accept.ts (Chromium).
  notMeasured: [],
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: { n: N, loadAverage1m: load1, serverCpuMsPerInvite: Math.round((serverCpuMs / N) * 100) / 100, floorMs: floor, invitesAccepted: statuses.filter((s) => s === 201).length, eventsReceived: viewers.filter((v) => arrivals.has(v.id)).length, inviteToEventMs: inviteToEvent },
});
process.exit(0);
