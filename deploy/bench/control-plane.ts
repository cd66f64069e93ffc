/**
 * Control plane: latency at a fixed request rate (open loop: requests are sent on schedule,
 * whatever the previous ones are doing) for GET /api/live/active, GET /api/users/:handle and
 * media token issuance (GET /api/live/:id/token), then /ws connections held by one server process
 * and its memory per connection. The server runs in its own process (lib/server-process.ts).
 */
import type { Socket } from 'node:net';
import { goLive, rawUpgrade, signUp } from './lib/client';
import { writeResult } from './lib/result';
import { startServerProcess } from './lib/server-process';
import { round, sleep, summarize, type Summary } from './lib/stats';

const RATE = 200;
const SECONDS = 10;
const WS_CONNECTIONS = 2000;

const t0 = performance.now();
const server = await startServerProcess();
const host = await signUp(server.url, server.outbox);
const live = await goLive(server.url, host);

interface EndpointResult extends Summary {
  endpoint: string;
  rate: number;
  seconds: number;
  errors: number;
  achievedRate: number;
}

async function fixedRate(endpoint: string, url: string): Promise<EndpointResult> {
  for (let i = 0; i < 50; i++) await fetch(url).then((r) => r.arrayBuffer()); // warm-up
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = RATE * SECONDS;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    pending.push(fetch(url).then(async (r) => {
      await r.arrayBuffer();
      if (r.ok) latencies.push(performance.now() - sent);
      else errors++;
    }, () => void errors++));
  }
  await Promise.all(pending);
  const wall = (performance.now() - start) / 1000;
  const r = { endpoint, rate: RATE, seconds: SECONDS, errors, achievedRate: round(total / wall), ...summarize(latencies) };
  process.stderr.write(`[control-plane] ${JSON.stringify(r)}\n`);
  return r;
}

const endpoints = [
  await fixedRate('GET /api/live/active', `${server.url}/api/live/active`),
  await fixedRate('GET /api/users/:handle', `${server.url}/api/users/${host.handle}`),
  await fixedRate('GET /api/live/:id/token (media token)', `${server.url}/api/live/${live.id}/token`),
];

// /ws: anonymous connections (a raw upgrade; the client keeps only the socket).
const rss0 = await server.rss();
const sockets: Socket[] = [];
let wsErrors = 0;
const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws`;
const wsStart = performance.now();
for (let i = 0; i < WS_CONNECTIONS; i += 100) {
  const batch = await Promise.allSettled(Array.from({ length: Math.min(100, WS_CONNECTIONS - i) }, () => rawUpgrade(wsUrl)));
  for (const b of batch) {
    if (b.status === 'fulfilled') sockets.push(b.value.on('error', () => undefined));
    else wsErrors++;
  }
}
const openSeconds = (performance.now() - wsStart) / 1000;
await sleep(2000);
const rss1 = await server.rss();
const stillOpen = sockets.filter((s) => !s.destroyed).length;
for (const s of sockets) s.destroy();
await server.stop();

const ws = {
  requested: WS_CONNECTIONS,
  held: stillOpen,
  errors: wsErrors,
  openSeconds: round(openSeconds),
  serverRssBeforeMiB: round(rss0 / 2 ** 20),
  serverRssAfterMiB: round(rss1 / 2 ** 20),
  kiBPerConnection: round((rss1 - rss0) / 1024 / Math.max(stillOpen, 1)),
};
process.stderr.write(`[control-plane] ws ${JSON.stringify(ws)}\n`);
await writeResult({
  name: 'control-plane',
  title: 'Control plane',
  method: `The server app (Fastify, build() from @podlive/server) in its own Node process on a fresh PostgreSQL test database, with an in-process media node (1 worker) for token issuance; cheap argon2 and rate limits raised out of reach (the bench measures the request path, not the limiter). The load generator (Node fetch/undici, in the parent process on the same 2-core machine) sends ${RATE} req/s for ${SECONDS} s per endpoint on a fixed schedule (open loop) after 50 warm-up requests; latency = send → body read. Token issuance is the anonymous viewer token of a started live (JWT signing + live lookup). /ws: ${WS_CONNECTIONS} anonymous connections opened 100 at a time by raw HTTP upgrades, held 2 s; memory = the server process's RSS after − before, per held connection.`,
  notMeasured: [],
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: { endpoints, ws },
});
process.exit(0);
