import protooClient from 'protoo-client';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { signMediaToken, type MediaClaims } from '@podlive/shared/tokens';
import { loadConfig, type SfuConfig } from '../src/config';

export const SECRET = 'sfu-test-secret-sfu-test-secret-sfu-test';

export async function testConfig(overrides: Record<string, string> = {}): Promise<SfuConfig> {
  const workers = Number(overrides.SFU_WORKERS ?? 1);
  return loadConfig({
    SFU_PORT: '0',
    SFU_WORKERS: String(workers),
    SFU_NODE_ID: 'node-t',
    RTC_PORT_BASE: String(await freeRtcPortBase(workers)),
    MEDIA_TOKEN_SECRET: SECRET,
    ...overrides,
  });
}

export function token(claims: Partial<MediaClaims> = {}, secret = SECRET, ttlSec?: number): Promise<string> {
  return signMediaToken(secret, { sid: 'room-1', sub: 'user-1', role: 'viewer', node: 'node-t', ...claims }, ttlSec);
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
