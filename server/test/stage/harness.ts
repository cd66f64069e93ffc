import { createTestDb, type TestDb } from '@podlive/db/testing';
import type { MediaNode } from '@podlive/sfu';
import { afterAll, beforeAll } from 'vitest';
import { freeTcpPort } from '@podlive/shared/testing/ports';
import type { ControlPeer } from '@podlive/shared/control';
import type { StageWsEvent } from '@podlive/shared/stage';
import { signControlToken } from '@podlive/shared/tokens';
import type { WsEvent } from '@podlive/shared/ws';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import protooClient from 'protoo-client';
import { build } from '../../src/app';
import { InProcessBus } from '../../src/bus';
import type { Config } from '../../src/config';
import { databaseHandle } from '../../src/db';
import { bearer, generousLimits, localFiles, post, type Account } from '../accounts/harness';
import { captureLogger, testConfig } from '../helpers';
import { KEYS, NODE_ID, nodeEnv, openProtoo, openWs, startNode, until, type WsClient } from '../live/harness';

export { KEYS, NODE_ID };

/** An app on `testDb` pointing at `node`, with the stage settings given (cheap argon2, generous limits). */
export async function stageApp(
  testDb: TestDb,
  node: MediaNode,
  stage: Partial<Config['stage']> = {},
  /** `info` like production (the load test); `trace` into memory otherwise. */
  logLevel: 'trace' | 'info' = 'trace',
): Promise<{ app: FastifyInstance; close(): Promise<void> }> {
  // Fixed secrets: a second app on the same database (a restart) accepts the first one's tokens.
  const base = await testConfig({ ...nodeEnv(node), JWT_ACCESS_SECRET: 'a'.repeat(40), JWT_REFRESH_SECRET: 'r'.repeat(40) });
  const config: Config = {
    ...base,
    passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 },
    rateLimits: generousLimits,
    stage: { ...base.stage, ...stage },
  };
  const { logger } = captureLogger();
  logger.level = logLevel;
  const bus = new InProcessBus({ logger });
  const app = build(config, { logger, bus, db: databaseHandle(testDb), ...(await localFiles(config, logger)) });
  await app.ready();
  return {
    app,
    async close() {
      await app.close();
      await bus.close();
    },
  };
}

export const newDb = () => createTestDb('postgres');

/** What a stage test file shares: a real node, a fresh database, a stage app; closers run after all. */
export interface StageSuite {
  node: MediaNode;
  testDb: TestDb;
  app: FastifyInstance;
  closers: Array<() => void>;
}

/** Sets up a StageSuite before the file's tests and tears it down after them. */
export function stageSuite(stage: Partial<Config['stage']> = {}, logLevel: 'trace' | 'info' = 'trace'): StageSuite {
  const suite = { closers: [] } as unknown as StageSuite;
  let closeApp: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    // The node asks the app whether a guest grant still stands (/internal): the app listens where the node looks.
    const port = await freeTcpPort();
    suite.node = await startNode({ SERVER_URL: `http://127.0.0.1:${port}` });
    suite.testDb = await newDb();
    ({ app: suite.app, close: closeApp } = await stageApp(suite.testDb, suite.node, stage, logLevel));
    await suite.app.listen({ host: '127.0.0.1', port });
  });
  afterAll(async () => {
    for (const close of suite.closers) close();
    await closeApp?.();
    await suite.testDb?.close();
    await suite.node?.close();
  });
  return suite;
}

/** GET /control/rooms/:id/peers on the node (empty when the room is not there). */
export async function peersOnNode(node: MediaNode, sessionId: string): Promise<ControlPeer[]> {
  const response = await fetch(`${node.controlUrl}/control/rooms/${sessionId}/peers`, { headers: { authorization: `Bearer ${await signControlToken(KEYS.privateKey, { node: NODE_ID, scope: 'room:read' })}` } });
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`control answered ${response.status}`);
  return ((await response.json()) as { peers: ControlPeer[] }).peers;
}

/** `viewer` opens the live on the node with a viewer token (raw protoo), and is seen there. */
export async function watch(app: FastifyInstance, node: MediaNode, viewer: Account, sessionId: string): Promise<{ close(): void }> {
  const response = await app.inject({ method: 'GET', url: `/api/live/${sessionId}/token`, headers: bearer(viewer.accessToken) });
  if (response.statusCode !== 200) throw new Error(`token failed: ${response.body}`);
  const { url, token } = response.json() as { url: string; token: string };
  const peer = await openProtoo(url, token);
  await until(async () => ((await peersOnNode(node, sessionId)).some((p) => p.userId === viewer.id) ? true : undefined), 'the viewer on the node');
  return peer;
}

export function invite(app: FastifyInstance, host: Account, sessionId: string, handle: string): Promise<LightMyRequestResponse> {
  return post(app, '/api/stage/invite', { sessionId, handle }, bearer(host.accessToken));
}

export const answer = (app: FastifyInstance, who: Account, inviteId: string, verb: 'accept' | 'reject', body: object = {}) =>
  post(app, `/api/stage/invite/${inviteId}/${verb}`, body, bearer(who.accessToken));

export const openUserWs = (app: FastifyInstance, who: Account): Promise<WsClient> => openWs(app, bearer(who.accessToken));

type Of<T extends StageWsEvent['type']> = Extract<StageWsEvent, { type: T }>;
/** The first `type` event on `client` (after `from`) matching `where`. */
export function nextOf<T extends StageWsEvent['type']>(client: WsClient, type: T, where: (event: Of<T>) => boolean = () => true, from = 0): Promise<Of<T>> {
  return client.next((e: WsEvent): e is Of<T> => e.type === type && where(e as Of<T>), from);
}

export const codeOf = (response: LightMyRequestResponse) => [response.statusCode, (response.json() as { error?: { code: string } }).error?.code];

/** `who` watching the live over a real protoo client (joined), so it can redeem a grant and publish. */
export async function mediaPeer(app: FastifyInstance, who: Account, sessionId: string): Promise<protooClient.Peer> {
  const response = await app.inject({ method: 'GET', url: `/api/live/${sessionId}/token`, headers: bearer(who.accessToken) });
  if (response.statusCode !== 200) throw new Error(`token failed: ${response.body}`);
  const { url, token } = response.json() as { url: string; token: string };
  const peer = new protooClient.Peer(new protooClient.WebSocketTransport(`${url}/?token=${encodeURIComponent(token)}`, { retry: { retries: 0 } }));
  await new Promise<void>((resolve, reject) => {
    peer.on('open', () => resolve());
    peer.on('failed', () => reject(new Error('the node refused the connection')));
  });
  await peer.request('join', { rtpCapabilities: await peer.request('getRouterRtpCapabilities') });
  return peer;
}

const OPUS = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 22222222 }] };

/** Opens a send transport and produces Opus on it (the node accepts RTP parameters before any packet flows). */
export async function produceAudio(peer: protooClient.Peer): Promise<string> {
  const transport = (await peer.request('createWebRtcTransport', { direction: 'send' })) as { id: string };
  return ((await peer.request('produce', { transportId: transport.id, kind: 'audio', rtpParameters: OPUS })) as { id: string }).id;
}
