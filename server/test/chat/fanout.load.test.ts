import { queryRows, sql } from '@podlive/db';
import { createTestDb, type TestDb } from '@podlive/db/testing';
import type { WsEvent } from '@podlive/shared/ws';
import type { FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, signUp, type Account } from '../accounts/harness';
import { until } from '../live/harness';
import { hostedLive } from './harness';
import { Fleet } from './replica';
import { connectTcp, type TcpWebSocket } from './tcp-ws';

/** The load, stated once: 500 clients over two replicas, 10 senders at 1 message/s for 60 s. */
const CLIENTS = 500;
const SENDERS = 10;
const SIGNED_IN_VIEWERS = 40;
const SECONDS = 60;
const TOTAL = SENDERS * SECONDS;

interface Client {
  ws: TcpWebSocket;
  /** chat_message ids in arrival order, with when each arrived (performance.now()). */
  ids: string[];
  bodies: string[];
  at: number[];
  other: WsEvent[];
}

let testDb: TestDb;
let fleet: Fleet;
const clients: Client[] = [];

beforeAll(async () => {
  testDb = await createTestDb('postgres');
  fleet = new Fleet(testDb);
});
afterAll(async () => {
  for (const client of clients) client.ws.terminate();
  await fleet.close();
  await testDb.close();
});

async function connect(app: FastifyInstance, sessionId: string, as?: Account): Promise<Client> {
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  const ws = await connectTcp(`ws://127.0.0.1:${address.port}/ws`, as === undefined ? {} : bearer(as.accessToken));
  const client: Client = { ws, ids: [], bodies: [], at: [], other: [] };
  let subscribed!: () => void;
  const ready = new Promise<void>((resolve) => (subscribed = resolve));
  ws.on('message', (data) => {
    const event = JSON.parse(data.toString('utf8')) as WsEvent;
    if (event.type === 'chat_message') {
      client.at.push(performance.now());
      client.ids.push(event.message.id);
      client.bodies.push(event.message.body);
    } else {
      if (event.type === 'viewer_count') subscribed();
      if (event.type !== 'viewer_count') client.other.push(event);
    }
  });
  ws.send(JSON.stringify({ type: 'subscribe', sessionId, watch: true }));
  await ready;
  clients.push(client);
  return client;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

describe('chat fan-out', () => {
  it(
    `delivers ${SENDERS} msg/s for ${SECONDS} s to ${CLIENTS} clients on two replicas, every message, in order`,
    async () => {
      const replicas = [await fleet.replica(), await fleet.replica()];
      for (const app of replicas) await app.listen({ port: 0, host: '127.0.0.1' });
      const [a] = replicas as [FastifyInstance, FastifyInstance];
      const { sessionId } = await hostedLive(a);
      const senders = await Promise.all(Array.from({ length: SENDERS }, () => signUp(a)));
      const signedIn = await Promise.all(Array.from({ length: SIGNED_IN_VIEWERS }, () => signUp(a)));

      // Alternate replicas; connect in batches so the upgrades don't all land in one tick.
      const who: Array<Account | undefined> = [...senders, ...signedIn, ...Array.from({ length: CLIENTS - SENDERS - SIGNED_IN_VIEWERS }, () => undefined)];
      const connectStart = performance.now();
      for (let i = 0; i < who.length; i += 50) {
        await Promise.all(who.slice(i, i + 50).map((as, j) => connect(replicas[(i + j) % 2] as FastifyInstance, sessionId, as)));
      }
      console.log(`fan-out: ${clients.length} clients connected and subscribed in ${Math.round(performance.now() - connectStart)} ms`);
      const senderClients = clients.slice(0, SENDERS);

      // Each sender on its own drift-free 1 s schedule, the ten offset by 100 ms: 10 messages/s.
      const sentAt = new Map<string, number>();
      const start = performance.now() + 200;
      await Promise.all(
        senderClients.map(async (sender, s) => {
          for (let k = 0; k < SECONDS; k++) {
            const wait = start + s * (1000 / SENDERS) + k * 1000 - performance.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            const body = `sender ${s} message ${k}`;
            sentAt.set(body, performance.now());
            sender.ws.send(JSON.stringify({ type: 'chat_send', sessionId, clientId: randomUUID(), body }));
          }
        }),
      );

      await until(() => (clients.every((c) => c.ids.length >= TOTAL) ? true : undefined), 'every client to receive every message', 60_000);
      const refused = senderClients.flatMap((c) => c.other.filter((e) => e.type === 'chat_refused' || e.type === 'error'));
      expect(refused).toEqual([]);
      const stored = await queryRows<{ id: string }>(testDb.db, sql`select id from chat_messages where session_id = ${sessionId} order by created_at, id`);
      expect(stored).toHaveLength(TOTAL);
      const order = stored.map((r) => r.id);
      let outOfOrder = 0;
      for (const client of clients) if (client.ids.join() !== order.join()) outOfOrder++;
      expect(outOfOrder).toBe(0);

      const latencies: number[] = [];
      for (const client of clients) client.bodies.forEach((body, i) => latencies.push((client.at[i] as number) - (sentAt.get(body) as number)));
      latencies.sort((x, y) => x - y);
      console.log(
        `fan-out: ${latencies.length} deliveries (${clients.length} clients × ${TOTAL} messages); latency send → receive ` +
          `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms`,
      );
    },
    240_000,
  );
});
