import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import protooClient from 'protoo-client';
import { parsePrivateKey, signMediaToken, type TokenSigningKey } from '@podlive/shared/tokens';
import type { MediaJoin, ViewerJoin } from '@podlive/shared/live';
import type { TokenSource } from './options';

/** A step of a join that failed, with why: what the report lists. */
export class JoinError extends Error {
  override name = 'JoinError';
  constructor(readonly stage: string, reason: string) {
    super(reason);
  }
}

/** The node URL and a viewer token: GET /api/live/:id/token (the real path), or minted here. */
export async function mediaJoin(source: TokenSource, index: number): Promise<MediaJoin> {
  if (source.kind === 'mint') {
    const token = await signMediaToken(signingKey(source.key), { sid: source.session, sub: `load:${index}`, role: 'viewer', node: source.node });
    return { url: source.ws, token, node: source.node, iceServers: [] };
  }
  let res: Response;
  try {
    res = await fetch(`${source.url}/api/live/${encodeURIComponent(source.session)}/token`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new JoinError('token', `control plane unreachable: ${(err as Error).message}`);
  }
  if (!res.ok) {
    // The control plane's errors are `{ error: { code, message } }`.
    const { error } = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    throw new JoinError('token', `HTTP ${res.status}${error?.code ? ` ${error.code}` : ''}${error?.message ? `: ${error.message}` : ''}`);
  }
  const join = (await res.json()) as ViewerJoin;
  // Past the live's WebRTC cap or the fleet's capacity: this viewer would watch the HLS (--hls loads that path).
  if (join.mode === 'hls') throw new JoinError('token', `answered HLS instead of a node (${join.reason === 'cap' ? 'the live’s WebRTC cap' : 'no node has room'})`);
  return join;
}

/** Opens protoo to the node; a refusal is probed once more over plain HTTP to learn the status and reason. */
export function openSignalling(join: Pick<MediaJoin, 'url' | 'token'>): Promise<protooClient.Peer> {
  const url = `${join.url.replace(/^http/, 'ws')}/?token=${encodeURIComponent(join.token)}`;
  const peer = new protooClient.Peer(new protooClient.WebSocketTransport(url, { retry: { retries: 0 } }));
  return new Promise((resolve, reject) => {
    peer.on('open', () => resolve(peer));
    peer.on('failed', () => {
      peer.close();
      void refusalReason(url).then((reason) => reject(new JoinError('signalling', reason)));
    });
  });
}

/** What the node answers a WebSocket upgrade with: "401 media token invalid", or the socket error. */
function refusalReason(wsUrl: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(wsUrl.replace(/^ws/, 'http'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': 'protoo',
      },
      timeout: 5000,
    });
    req.on('response', (res) => {
      const reason = res.headers['x-websocket-reject-reason'] ?? res.statusMessage ?? '';
      resolve(`refused: ${res.statusCode ?? '?'} ${String(reason)}`.trim());
      res.resume();
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      resolve('connection failed, though the node accepts it now');
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(`unreachable: ${err.message}`));
    req.end();
  });
}

const keys = new Map<string, TokenSigningKey>();
/** --key parsed once per process (every viewer of a run signs with it). */
function signingKey(text: string): TokenSigningKey {
  let key = keys.get(text);
  if (!key) keys.set(text, (key = parsePrivateKey(text)));
  return key;
}
