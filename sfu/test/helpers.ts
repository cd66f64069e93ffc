import protooClient from 'protoo-client';
import { WebSocket } from 'ws';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { signControlToken, signMediaToken, type ControlScope, type MediaClaims, type TokenSigningKey } from '@podlive/shared/tokens';
import { loadConfig, type SfuConfig } from '../src/config';

/** The test control plane's key pair: nodes get only its public half. */
export const KEYS = testKeyPair();

export async function testConfig(overrides: Record<string, string> = {}): Promise<SfuConfig> {
  const workers = Number(overrides.SFU_WORKERS ?? 1);
  return loadConfig({
    SFU_PORT: '0',
    SFU_WORKERS: String(workers),
    SFU_NODE_ID: 'node-t',
    RTC_PORT_BASE: String(await freeRtcPortBase(workers)),
    MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem,
    ...overrides,
  });
}

export function token(claims: Partial<MediaClaims> = {}, key: TokenSigningKey = KEYS.privateKey, ttlSec?: number): Promise<string> {
  return signMediaToken(key, { sid: 'room-1', sub: 'user-1', role: 'viewer', node: 'node-t', ...claims }, ttlSec);
}

/** A control token from the test control plane for `node` (default node-t) with `scope`. */
export function controlToken(scope: ControlScope, node = 'node-t', key: TokenSigningKey = KEYS.privateKey): Promise<string> {
  return signControlToken(key, { node, scope });
}

/** Opens a protoo connection; resolves with the peer, or rejects when the node refuses it. */
export function connect(nodeUrl: string, query: string): Promise<protooClient.Peer> {
  const transport = new protooClient.WebSocketTransport(`${nodeUrl.replace('http', 'ws')}/?${query}`, { retry: { retries: 0 } });
  const peer = new protooClient.Peer(transport);
  return new Promise((resolve, reject) => {
    peer.on('open', () => resolve(peer));
    peer.on('failed', () => reject(new Error('refused')));
  });
}

/** The error a request was rejected with ({ code, message }); fails the test if it was accepted. */
export async function rejection(promise: Promise<unknown>): Promise<{ code?: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: number; message: string };
  }
  throw new Error('expected the request to be rejected');
}

/**
 * A raw protoo WebSocket (the `protoo` subprotocol, nothing else): for frames no protoo client
 * would send. Resolves once open; rejects with the HTTP status when the node refuses the upgrade.
 */
export function rawSocket(nodeUrl: string, query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  const socket = new WebSocket(`${nodeUrl.replace(/^http/, 'ws')}/?${query}`, 'protoo', { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(socket));
    socket.once('unexpected-response', (_request, response) => reject(new UpgradeRefused(response.statusCode ?? 0)));
    socket.once('error', reject);
  });
}

export class UpgradeRefused extends Error {
  constructor(readonly status: number) {
    super(`upgrade refused with ${status}`);
  }
}

/** The HTTP status a refused upgrade got (fails the test if the socket opened). */
export async function refusal(opening: Promise<WebSocket>): Promise<number> {
  try {
    (await opening).close();
  } catch (err) {
    if (err instanceof UpgradeRefused) return err.status;
    throw err;
  }
  throw new Error('expected the node to refuse the connection');
}

/** A protoo request over a raw socket; resolves with the response (ok or not) of the same id. */
export function rawRequest(socket: WebSocket, id: number, method: string, data: unknown): Promise<{ ok: boolean; data?: unknown; errorCode?: number; errorReason?: string }> {
  return new Promise((resolve) => {
    const onMessage = (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as { response?: boolean; id?: number; ok?: boolean; errorCode?: number; errorReason?: string; data?: unknown };
      if (!message.response || message.id !== id) return;
      socket.off('message', onMessage);
      resolve(message as { ok: boolean });
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ request: true, id, method, data }));
  });
}
