import { MediaNode } from '@podlive/sfu';
import { loadConfig as loadSfuConfig } from '@podlive/sfu/config';
import type { WsClientMessage, WsEvent } from '@podlive/shared/ws';
import type { MediaJoin } from '@podlive/shared/live';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { signControlToken } from '@podlive/shared/tokens';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { bearer, post, startHarness, type Account, type Harness } from '../accounts/harness';
import { tempDir } from '../helpers';

/** The test control plane's media token key pair: the server gets the private key, the node only the public one. */
export const KEYS = testKeyPair();
export const NODE_ID = 'node-live';

/** A real media node (one worker) with the test public key, and `env` added (e.g. SERVER_URL). */
export async function startNode(env: Record<string, string> = {}): Promise<MediaNode> {
  return MediaNode.start(
    // Every test viewer comes from this one address: no per-address connection limit.
    loadSfuConfig({ SFU_PORT: '0', SFU_CONNECTS_PER_MINUTE: '0', SFU_WORKERS: '1', SFU_NODE_ID: NODE_ID, RTC_PORT_BASE: String(await freeRtcPortBase(1)), MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, DATA_DIR: await tempDir(), ...env }),
  );
}

/** The server's environment pointing at `node`. */
export const nodeEnv = (node: MediaNode) => ({ SFU_URL: node.controlUrl, SFU_PUBLIC_WS_URL: node.publicWsUrl, SFU_NODE_ID: NODE_ID, MEDIA_TOKEN_PRIVATE_KEY: KEYS.privatePem });

/** GET /control/rooms/:id on the node: the peers by role, or null when the room is not there. */
export async function roomOnNode(node: MediaNode, sessionId: string): Promise<{ host: number; guest: number; viewer: number } | null> {
  const response = await fetch(`${node.controlUrl}/control/rooms/${sessionId}`, { headers: { authorization: `Bearer ${await signControlToken(KEYS.privateKey, { node: NODE_ID, scope: 'room:read' })}` } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`control answered ${response.status}`);
  return ((await response.json()) as { peers: { host: number; guest: number; viewer: number } }).peers;
}

/** Opens protoo (a raw WebSocket upgrade with the `protoo` subprotocol) to `${url}/?token=`; rejects when refused. */
export function openProtoo(url: string, token: string): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url.replace(/^ws/, 'http')}/?token=${encodeURIComponent(token)}`, {
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': 'protoo' },
    });
    req.on('upgrade', (_response, socket) => resolve({ close: () => socket.destroy() }));
    req.on('response', (response) => reject(new Error(`refused with ${response.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `probe` until it returns something other than undefined (events, not sleeps). */
export async function until<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface LiveBody {
  title?: string;
  category?: string;
  description?: string;
  scheduledAt?: string;
}

/** POST /api/live/create as `host`; returns the session id. */
export async function createLive(app: FastifyInstance, host: Account, body: LiveBody = {}): Promise<string> {
  const response = await post(app, '/api/live/create', { title: 'My show', category: 'Tech', ...body }, bearer(host.accessToken));
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.body}`);
  return response.json().session.id as string;
}

export async function startLive(app: FastifyInstance, host: Account, id: string) {
  const response = await post(app, `/api/live/${id}/start`, {}, bearer(host.accessToken));
  if (response.statusCode !== 200) throw new Error(`start failed: ${response.body}`);
  return response.json() as { session: { id: string; status: string }; join: MediaJoin };
}

let addresses = 0;
/** A fresh address of 198.18.0.0/15 (reserved for benchmarks) per call. */
const nextAddress = () => {
  addresses++;
  return `198.18.${(addresses >> 8) & 255}.${addresses & 255}`;
};

/** A /ws client through app.injectWS, keeping every event it receives. */
export interface WsClient {
  events: WsEvent[];
  send(message: WsClientMessage | string | Record<string, unknown>): void;
  /** Resolves with the first event (after `from`) matching `match`. */
  next<T extends WsEvent>(match: (event: WsEvent) => event is T, from?: number): Promise<T>;
  next(match: (event: WsEvent) => boolean, from?: number): Promise<WsEvent>;
  /** Subscribes and waits for the server's answer (the current viewer_count). */
  subscribe(sessionId: string, watch?: boolean): Promise<void>;
  closed: Promise<number>;
  close(): void;
}

export async function openWs(app: FastifyInstance, headers: Record<string, string> = {}): Promise<WsClient> {
  // injectWS's fake request has no socket; trustProxy reads its address when logging the request.
  // Each client comes from its own address (anonymous viewers count once per address) unless
  // `headers` names one in X-Forwarded-For (trusted from loopback, as behind the web app or an edge).
  const upgrade = { headers: { 'x-forwarded-for': nextAddress(), ...headers }, socket: { remoteAddress: '127.0.0.1' } } as unknown as Parameters<FastifyInstance['injectWS']>[1];
  const ws = await app.injectWS('/ws', upgrade);
  const events: WsEvent[] = [];
  const closed = new Promise<number>((resolve) => ws.on('close', (code: number) => resolve(code)));
  ws.on('message', (data: Buffer) => events.push(JSON.parse(data.toString('utf8')) as WsEvent));
  const client: WsClient = {
    events,
    send: (message) => ws.send(typeof message === 'string' ? message : JSON.stringify(message)),
    next: (match: (event: WsEvent) => boolean, from = 0) => until(() => events.slice(from).find(match), 'a /ws event'),
    async subscribe(sessionId, watch = false) {
      const from = events.length;
      client.send({ type: 'subscribe', sessionId, watch });
      await client.next((e) => (e.type === 'viewer_count' && e.sessionId === sessionId) || e.type === 'error' || e.type === 'live_ended', from);
    },
    closed,
    close: () => ws.terminate(),
  };
  return client;
}

export const viewerCounts = (client: WsClient, sessionId: string, from = 0) =>
  client.events.slice(from).flatMap((e) => (e.type === 'viewer_count' && e.sessionId === sessionId ? [e.viewers] : []));

/** A multipart/form-data body with one file field (an image upload: a live's thumbnail). */
export function multipart(field: string, bytes: Buffer) {
  const boundary = 'x-boundary-x';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${field}"; filename="t.png"\r\ncontent-type: image/png\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/**
 * One app per test file (real Postgres, no media node: going live only records the origin), and
 * the /ws clients the file opens (`open`, or pushed on `clients`), closed at its end. `t.h` is set
 * once beforeAll has run.
 */
export function useAppWithSockets(): { readonly h: Harness; open: (as?: Account) => Promise<WsClient>; clients: WsClient[] } {
  let harness: Harness | undefined;
  const clients: WsClient[] = [];
  beforeAll(async () => {
    harness = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9' });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await harness?.close();
  });
  const started = (): Harness => {
    if (!harness) throw new Error('the app is not started yet (use it inside tests)');
    return harness;
  };
  return {
    clients,
    get h() {
      return started();
    },
    async open(as) {
      const client = await openWs(started().app, as === undefined ? {} : bearer(as.accessToken));
      clients.push(client);
      return client;
    },
  };
}
