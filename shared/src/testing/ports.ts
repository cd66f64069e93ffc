import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';

/**
 * Where test ports are drawn from: below Linux's ephemeral range (32768–60999 by default), so a
 * port found free here is not handed by the kernel to another process's `listen(0)` or outgoing
 * connection in the moment between this check and the test server binding it (a CI run failed
 * with EADDRINUSE that way when ports came from `listen(0)` itself). Only another test drawing
 * the same random port at the same moment can still take it.
 */
const TEST_PORTS = { from: 20_000, to: 32_000 } as const;

/** A TCP port free right now on `host` (tests pass it to servers that need a fixed port). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = TEST_PORTS.from + Math.floor(Math.random() * (TEST_PORTS.to - TEST_PORTS.from));
    if (await tcpFree(port, host)) return port;
  }
  throw new Error(`no free TCP port in ${TEST_PORTS.from}-${TEST_PORTS.to} on ${host}`);
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
