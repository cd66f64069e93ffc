import { randomHandle } from '@podlive/shared/testing/handles';
import { latestCode } from '@podlive/shared/testing/outbox';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

const PASSWORD = 'correct horse battery staple';

export interface Account {
  id: string;
  handle: string;
  accessToken: string;
}

async function json<T>(url: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, { ...init, headers });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/**
 * Registers, verifies (the code read from the server's mail outbox, `DATA_DIR/outbox`) and logs in
 * a fresh user through the API: going live and the stage need a verified email.
 */
export async function signUp(base: string, outbox: string): Promise<Account> {
  const id = randomBytes(4).toString('hex');
  const email = `bench_${id}@example.test`;
  const handle = randomHandle('bench');
  await json(`${base}/api/auth/register`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD, handle }) });
  const code = await latestCode(outbox, email);
  await json(`${base}/api/auth/verify-otp`, { method: 'POST', body: JSON.stringify({ email, code, purpose: 'verify_email' }) });
  const login = await json<{ user: { id: string }; accessToken: string }>(`${base}/api/auth/login`, { method: 'POST', body: JSON.stringify({ email, password: PASSWORD }) });
  return { id: login.user.id, handle, accessToken: login.accessToken };
}

/** Creates and starts a live as `host`; returns its id and the host's media join. */
export async function goLive(base: string, host: Account): Promise<{ id: string; join: { url: string; token: string } }> {
  const created = await json<{ session: { id: string } }>(`${base}/api/live/create`, { method: 'POST', token: host.accessToken, body: JSON.stringify({ title: 'Bench show', category: 'Tech' }) });
  const started = await json<{ join: { url: string; token: string } }>(`${base}/api/live/${created.session.id}/start`, { method: 'POST', token: host.accessToken, body: '{}' });
  return { id: created.session.id, join: started.join };
}

export const viewerToken = (base: string, session: string, token?: string) =>
  json<{ url: string; token: string }>(`${base}/api/live/${session}/token`, token ? { token } : {});

/** A raw WebSocket upgrade (no frame parsing): resolves with the socket once upgraded. */
export function rawUpgrade(url: string, headers: Record<string, string> = {}, protocol?: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: {
        connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'),
        ...(protocol ? { 'sec-websocket-protocol': protocol } : {}), ...headers,
      },
    });
    req.on('upgrade', (_response, socket: Socket) => resolve(socket));
    req.on('response', (response) => reject(new Error(`upgrade refused with ${response.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}
