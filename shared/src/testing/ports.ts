import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';

/** A TCP port free right now on `host` (tests pass it to servers that need a fixed port). */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, host, () => socket.close(() => resolve(true)));
  });
}

/** A port free on both TCP and UDP (a WebRtcServer listens on both), for `count` consecutive ports. */
export async function freeRtcPortBase(count = 1, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freeTcpPort(host);
    if (base + count > 65535) continue;
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = (i === 0 || (await tcpFree(base + i, host))) && (await udpFree(base + i, host));
    if (ok) return base;
  }
  throw new Error('no free port range for WebRtcServers');
}

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on host:port; throws with `what` after `timeoutMs`. */
export async function waitForTcp(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host, port }, () => {
        socket.end();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
