import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { boundUdpPorts, freeUdpPortPairs, waitUntilBound } from '../src/capture/ports';

describe('capture ports', () => {
  it('freeUdpPortPairs gives distinct even ports whose pair (port, port + 1) can be bound', async () => {
    const ports = await freeUdpPortPairs(3);
    expect(ports).toHaveLength(3);
    expect(new Set(ports.flatMap((p) => [p, p + 1])).size).toBe(6);
    for (const port of ports) {
      expect(port % 2).toBe(0);
      const sockets = [createSocket('udp4'), createSocket('udp4')];
      await Promise.all(sockets.map((s, i) => new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(port + i, '127.0.0.1', resolve);
      })));
      sockets.forEach((s) => s.close());
    }
  });

  it('waitUntilBound sees a port once a process binds it, and only that process when asked', async () => {
    const [port] = await freeUdpPortPairs(1);
    expect(await waitUntilBound([port!], 50)).toBe(false);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port!, '127.0.0.1', resolve));
    try {
      expect((await boundUdpPorts())?.has(port!)).toBe(true);
      expect(await waitUntilBound([port!], 1000, { pid: process.pid })).toBe(true);
      // PID 1 (init) holds no socket on it.
      expect(await waitUntilBound([port!], 50, { pid: 1 })).toBe(false);
    } finally {
      socket.close();
    }
  });
});
