import { createRequire } from 'node:module';

/** The little of ws' client WebSocket the fan-out test uses (the server has no @types/ws). */
export interface TcpWebSocket {
  send(data: string): void;
  on(event: 'message', listener: (data: Buffer) => void): this;
  on(event: 'open', listener: () => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close', listener: () => void): this;
  terminate(): void;
}
type WebSocketClass = new (url: string, options?: { headers?: Record<string, string> }) => TcpWebSocket;

// ws is not a dependency of the server itself; it is @fastify/websocket's, resolved from there.
const require = createRequire(import.meta.url);
const WebSocket = createRequire(require.resolve('@fastify/websocket'))('ws') as WebSocketClass;

/** A real WebSocket over TCP to `url`; resolves once open. */
export function connectTcp(url: string, headers: Record<string, string> = {}): Promise<TcpWebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}
