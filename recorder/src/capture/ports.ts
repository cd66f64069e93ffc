import { createSocket, type Socket } from 'node:dgram';
import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * UDP port pairs for FFmpeg to bind: an even RTP port and the RTCP port after it (the sdp demuxer
 * always binds port + 1). The kernel picks a free port; the pair is tried by binding both, then
 * released. Another process could take a port between this check and FFmpeg's bind: FFmpeg then
 * fails to start and the rendition restarts it (the same ports: the node's PlainTransport sends
 * to them for the whole recording), so the race costs a restart, never silent loss.
 */

function bind(port: number, ip: string): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, ip, () => resolve(socket));
  });
}

const close = (socket: Socket | undefined) => new Promise<void>((resolve) => (socket ? socket.close(() => resolve()) : resolve()));

/** `count` distinct even RTP ports, each with its RTCP port (+1) free on `ip` right now. */
export async function freeUdpPortPairs(count: number, ip = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1) throw new TypeError(`bad port pair count ${count}`);
  const held: Socket[] = [];
  const ports: number[] = [];
  try {
    for (let attempt = 0; ports.length < count; attempt++) {
      if (attempt >= count * 50) throw new Error(`no ${count} free UDP port pairs on ${ip}`);
      const probe = await bind(0, ip);
      if (!probe) throw new Error(`cannot bind UDP on ${ip}`);
      const port = probe.address().port;
      await close(probe);
      const rtp = port % 2 === 0 ? port : port + 1;
      if (rtp + 1 > 65535) continue;
      // Both stay bound until every pair is found, so the pairs of one call never overlap.
      const a = await bind(rtp, ip);
      const b = a && (await bind(rtp + 1, ip));
      if (a && b) {
        held.push(a, b);
        ports.push(rtp);
      } else {
        await close(a);
      }
    }
    return ports;
  } finally {
    await Promise.all(held.map(close));
  }
}

/** Inodes of the sockets a process holds (Linux: /proc/<pid>/fd). */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  await Promise.all(fds.map(async (fd) => {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode) inodes.add(inode);
  }));
  return inodes;
}

/**
 * Local UDP ports bound right now (Linux: /proc/net/udp{,6}), only those of process `pid` when
 * given; undefined where the kernel's socket table cannot be read.
 */
export async function boundUdpPorts(pid?: number): Promise<Set<number> | undefined> {
  const owned = pid === undefined ? undefined : await socketInodes(pid);
  const ports = new Set<number>();
  let readable = false;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    readable = true;
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16);
      if (!Number.isInteger(port) || (owned && !owned.has(fields[9] ?? ''))) continue;
      ports.add(port);
    }
  }
  return readable ? ports : undefined;
}

/**
 * Resolves true once every port in `ports` is bound (by process `pid` when given), false after
 * `timeoutMs` or on `signal`, and at once false where the kernel's socket table cannot be read.
 */
export async function waitUntilBound(ports: readonly number[], timeoutMs: number, o: { pid?: number; signal?: AbortSignal } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The kernel's socket table alone while waiting; whose sockets they are (a read of every
    // descriptor of the process) once they are all there. Every 20 ms: each look costs ~0.8 ms of
    // CPU here, and three renditions starting at once looked 300 times a second, a quarter of a
    // core taken from the process that feeds them, while the host's camera arrives.
    const bound = await boundUdpPorts();
    if (!bound) return false;
    if (ports.every((p) => bound.has(p))) {
      if (o.pid === undefined) return true;
      const owned = await boundUdpPorts(o.pid);
      if (owned && ports.every((p) => owned.has(p))) return true;
    }
    if (Date.now() >= deadline || o.signal?.aborted) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
