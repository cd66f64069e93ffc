import type { ControlPeer } from '@podlive/shared/control';
import { readControlToken, type TokenVerifyingKey } from '@podlive/shared/tokens';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ControlCall {
  method: string;
  path: string;
}

/**
 * A node's /control endpoint as the control plane sees it (a real HTTP server, the node's control
 * token checked): rooms close (204) and list their peers (`peers`, 404 for a room not there). The
 * media itself is the sfu's business; these tests are about which node the control plane asks.
 */
export class ControlServer {
  readonly calls: ControlCall[] = [];
  /** sid → the peers this node says it has in that room. */
  readonly peers = new Map<string, ControlPeer[]>();
  readonly #server: Server;

  private constructor(readonly nodeId: string, publicKey: TokenVerifyingKey) {
    this.#server = createServer((req, res) => {
      void (async () => {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
        const path = req.url ?? '';
        const claims = await readControlToken(publicKey, token);
        const scope = req.method === 'POST' ? 'room:close' : 'room:read';
        if (claims?.node !== nodeId || claims.scope !== scope) return res.writeHead(401).end();
        this.calls.push({ method: req.method ?? '', path });
        const close = /^\/control\/rooms\/([^/]+)\/close$/.exec(path);
        if (req.method === 'POST' && close !== null) return res.writeHead(204).end();
        const list = /^\/control\/rooms\/([^/]+)\/peers$/.exec(path);
        const peers = list === null ? undefined : this.peers.get(decodeURIComponent(list[1] ?? ''));
        if (req.method === 'GET' && peers !== undefined) {
          return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ roomId: list?.[1], peers }));
        }
        res.writeHead(404).end();
      })();
    });
  }

  static async start(nodeId: string, publicKey: TokenVerifyingKey): Promise<ControlServer> {
    const server = new ControlServer(nodeId, publicKey);
    await new Promise<void>((resolve) => server.#server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** `userId` watching the session here (a viewer peer), replacing what the room had. */
  watching(sid: string, ...userIds: string[]): void {
    this.peers.set(
      sid,
      userIds.map((userId, i) => ({ peerId: `${this.nodeId}-peer-${i}`, userId, role: 'viewer', mutedByHost: false, producers: [] })),
    );
  }

  closed(sid: string): boolean {
    return this.calls.some((call) => call.method === 'POST' && call.path === `/control/rooms/${sid}/close`);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
