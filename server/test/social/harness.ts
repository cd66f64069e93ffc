import { sql } from '@podlive/db';
import type { FastifyInstance } from 'fastify';
import { createECDH, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearer, type Account, type Harness } from '../accounts/harness';
import { openWs, type WsClient } from '../live/harness';

export const get = (app: FastifyInstance, url: string, who?: Account) => app.inject({ method: 'GET', url, headers: who === undefined ? {} : bearer(who.accessToken) });
export const send = (app: FastifyInstance, method: 'POST' | 'DELETE', url: string, who: Account, payload?: object) =>
  app.inject({ method, url, headers: bearer(who.accessToken), ...(payload === undefined ? {} : { payload }) });
export const codeOf = (response: { statusCode: number; json(): unknown }) => [response.statusCode, (response.json() as { error?: { code: string } }).error?.code];

/** A /ws connection of `who`, known to be registered on the user's channel (a ping answered after it). */
export async function userSocket(app: FastifyInstance, who: Account, clients: WsClient[]): Promise<WsClient> {
  const client = await openWs(app, bearer(who.accessToken));
  clients.push(client);
  client.send({ type: 'ping' });
  await client.next((e) => e.type === 'pong');
  return client;
}

export async function follow(app: FastifyInstance, follower: Account, followee: Account) {
  const response = await send(app, 'POST', `/api/users/${followee.id}/follow`, follower);
  if (response.statusCode !== 200) throw new Error(`follow failed: ${response.body}`);
}

export const makeAdmin = (h: Harness, who: Account) => h.testDb.db.execute(sql`update users set is_admin = true where id = ${who.id}`);

/** A browser's push subscription: a real P-256 key pair and auth secret, kept to decrypt what arrives. */
export class BrowserKeys {
  readonly #ecdh = createECDH('prime256v1');
  readonly auth = randomBytes(16);
  readonly p256dh: Buffer;

  constructor() {
    this.p256dh = this.#ecdh.generateKeys();
  }

  subscription(endpoint: string) {
    return { endpoint, expirationTime: null, keys: { p256dh: this.p256dh.toString('base64url'), auth: this.auth.toString('base64url') } };
  }

  /** RFC 8291 (Web Push message encryption) with RFC 8188's aes128gcm record: one record, as web-push sends. */
  decrypt(body: Buffer): string {
    const salt = body.subarray(0, 16);
    const idLength = body.readUInt8(20);
    const senderKey = body.subarray(21, 21 + idLength);
    const record = body.subarray(21 + idLength);
    const hmac = (key: Buffer, ...data: Buffer[]) => createHmac('sha256', key).update(Buffer.concat(data)).digest();
    const shared = this.#ecdh.computeSecret(senderKey);
    const prkKey = hmac(this.auth, shared);
    const ikm = hmac(prkKey, Buffer.from('WebPush: info\0'), this.p256dh, senderKey, Buffer.from([1]));
    const prk = hmac(salt, ikm);
    const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0'), Buffer.from([1])).subarray(0, 16);
    const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0'), Buffer.from([1])).subarray(0, 12);
    const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    // The last record ends with the delimiter 0x02, then zero padding.
    let end = padded.length - 1;
    while (end >= 0 && padded[end] === 0) end--;
    if (padded[end] !== 2) throw new Error('no last-record delimiter');
    return padded.subarray(0, end).toString('utf8');
  }
}

export interface PushRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A local HTTP server playing a push service: keeps every request, answers `statusFor(path)` (201 by default). */
export async function startPushService(statusFor: (path: string) => number = () => 201) {
  const received: PushRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      received.push({ path, headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(statusFor(path)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
