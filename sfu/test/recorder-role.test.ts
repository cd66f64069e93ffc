import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type protooClient from 'protoo-client';
import { MediaNode } from '../src/MediaNode';
import { SyntheticPublisher } from '../load/synthetic-publisher';
import { KEYS, connect, rejection, testConfig, token } from './helpers';

/** RTP arriving on a UDP socket, by SSRC (what an FFmpeg reading an SDP would get). */
class RtpSink {
  readonly bySsrc = new Map<number, number>();
  private constructor(readonly socket: Socket, readonly rtcp: Socket) {
    socket.on('message', (msg) => {
      const ssrc = msg.readUInt32BE(8);
      this.bySsrc.set(ssrc, (this.bySsrc.get(ssrc) ?? 0) + 1);
    });
  }

  static async open(): Promise<RtpSink> {
    const bind = async (port = 0) => {
      const s = createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', resolve));
      return s;
    };
    const rtp = await bind();
    return new RtpSink(rtp, await bind());
  }

  get port(): number {
    return this.socket.address().port;
  }

  get rtcpPort(): number {
    return this.rtcp.address().port;
  }

  async packetsOf(ssrc: number, atLeast: number): Promise<number> {
    const deadline = Date.now() + 5000;
    while ((this.bySsrc.get(ssrc) ?? 0) < atLeast && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.bySsrc.get(ssrc) ?? 0;
  }

  close(): void {
    this.socket.close();
    this.rtcp.close();
  }
}

/** Polls `check` every 10 ms until true (5 s at most). */
async function until(check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5000; !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error('timed out');
  }
}

describe('the recorder role: plain RTP consumers for the recording service', () => {
  let node: MediaNode;
  let publisher: SyntheticPublisher;
  let recorder: protooClient.Peer;
  const sinks: RtpSink[] = [];
  const videoId = () => publisher.producers.find((p) => p.kind === 'video')!.id;

  beforeAll(async () => {
    node = await MediaNode.start(await testConfig({ SFU_RECORDER_WAIT_MS: '1000' }));
    publisher = await SyntheticPublisher.start({ node, session: 'room-1', key: KEYS.privateKey });
    recorder = await connect(node.url, `token=${await token({ sub: 'recorder', role: 'recorder' })}`);
  });

  afterAll(async () => {
    for (const sink of sinks) sink.close();
    publisher?.close();
    await node?.close();
  });

  it('sends a producer’s RTP, unencrypted, to the address the recorder names, once resumed', async () => {
    const sink = await RtpSink.open();
    sinks.push(sink);
    const consumer = (await recorder.request('createPlainConsumer', { producerId: videoId(), ip: '127.0.0.1', port: sink.port, rtcpPort: sink.rtcpPort })) as {
      id: string; kind: string; spatialLayers: number; rtpParameters: { codecs: { mimeType: string }[]; encodings: { ssrc: number }[] };
    };
    expect(consumer.kind).toBe('video');
    expect(consumer.spatialLayers).toBe(1);
    // No RTX towards a plain receiver: only the media codec.
    expect(consumer.rtpParameters.codecs.map((c) => c.mimeType)).toEqual(['video/H264']);
    const ssrc = consumer.rtpParameters.encodings[0]!.ssrc;
    // Paused: nothing flows yet.
    expect(sink.bySsrc.get(ssrc) ?? 0).toBe(0);
    await recorder.request('resumeConsumer', { consumerId: consumer.id });
    expect(await sink.packetsOf(ssrc, 50)).toBeGreaterThanOrEqual(50);
    await recorder.request('requestKeyFrame', { consumerId: consumer.id });

    await recorder.request('closeConsumer', { consumerId: consumer.id });
    const room = node.rooms.get('room-1')!;
    const peer = [...room.peers.values()].find((p) => p.claims.role === 'recorder')!;
    expect(peer.plainTransports.size).toBe(0);
  });

  it('tells who produces what, so the recorder can tell the host from guests', async () => {
    const { producers } = (await recorder.request('join', { rtpCapabilities: { codecs: [] } })) as { producers: { userId: string; source: string; kind: string }[] };
    expect(producers.map((p) => `${p.userId}/${p.kind}/${p.source}`).sort()).toEqual(['load-publisher/audio/mic', 'load-publisher/video/camera']);
  });

  it('refuses viewers and hosts, bad addresses and unknown producers, and creates nothing', async () => {
    const viewer = await connect(node.url, `token=${await token({ sub: 'v1' })}`);
    const request = { producerId: videoId(), ip: '127.0.0.1', port: 40000, rtcpPort: 40001 };
    expect((await rejection(viewer.request('createPlainConsumer', request))).code).toBe(403);
    expect((await rejection(viewer.request('requestKeyFrame', { consumerId: 'x' }))).code).toBe(403);
    expect((await rejection(recorder.request('createPlainConsumer', { ...request, ip: 'not-an-ip' }))).code).toBe(400);
    expect((await rejection(recorder.request('createPlainConsumer', { ...request, port: 80 }))).code).toBe(400);
    expect((await rejection(recorder.request('createPlainConsumer', { ...request, producerId: 'nope' }))).code).toBe(404);
    const room = node.rooms.get('room-1')!;
    for (const peer of room.peers.values()) expect(peer.plainTransports.size).toBe(0);
    viewer.close();
  });

  it('a recorder cannot open a live that is not on the node (refused once it waited SFU_RECORDER_WAIT_MS for it)', async () => {
    const asked = performance.now();
    await expect(connect(node.url, `token=${await token({ sid: 'room-2', sub: 'recorder', role: 'recorder' })}`)).rejects.toThrow(/refused/);
    expect(performance.now() - asked).toBeGreaterThanOrEqual(900);
    expect(node.rooms.has('room-2')).toBe(false);
  });

  it('a recorder that comes before the host waits at the node and is let in when the host opens the room', async () => {
    const early = connect(node.url, `token=${await token({ sid: 'room-3', sub: 'recorder', role: 'recorder' })}`);
    await until(() => node.waitingRecorders === 1);
    expect(node.rooms.has('room-3')).toBe(false);
    // Another live's room opening lets nobody in.
    const other = await connect(node.url, `token=${await token({ sid: 'room-4', sub: 'host-4', role: 'host' })}`);
    expect(node.waitingRecorders).toBe(1);
    const host = await connect(node.url, `token=${await token({ sid: 'room-3', sub: 'host-3', role: 'host' })}`);
    const peer = await early;
    expect(node.waitingRecorders).toBe(0);
    expect([...node.rooms.get('room-3')!.peers.values()].map((p) => p.claims.role).sort()).toEqual(['host', 'recorder']);
    peer.close();
    host.close();
    other.close();
  });

  it('a recorder waiting for a room is refused at once when the live ends', async () => {
    const waiting = connect(node.url, `token=${await token({ sid: 'room-6', sub: 'recorder', role: 'recorder' })}`);
    const refused = expect(waiting).rejects.toThrow(/refused/);
    await until(() => node.waitingRecorders === 1);
    const endedAt = performance.now();
    await node.endSession('room-6');
    await refused;
    // SFU_RECORDER_WAIT_MS is 1000 here.
    expect(performance.now() - endedAt).toBeLessThan(800);
    expect(node.waitingRecorders).toBe(0);
  });

  it('a recorder waiting for a room is refused at once when the node closes', async () => {
    const closing = await MediaNode.start(await testConfig({ SFU_RECORDER_WAIT_MS: '30000' }));
    const waiting = connect(closing.url, `token=${await token({ sid: 'room-5', sub: 'recorder', role: 'recorder' })}`);
    const refused = expect(waiting).rejects.toThrow(/refused/);
    await until(() => closing.waitingRecorders === 1);
    const closedAt = performance.now();
    await closing.close();
    await refused;
    expect(performance.now() - closedAt).toBeLessThan(5000);
    expect(closing.waitingRecorders).toBe(0);
  });

  it('a recorder that leaves takes its plain transports with it', async () => {
    const sink = await RtpSink.open();
    sinks.push(sink);
    const other = await connect(node.url, `token=${await token({ sub: 'recorder-2', role: 'recorder' })}`);
    await other.request('createPlainConsumer', { producerId: videoId(), ip: '127.0.0.1', port: sink.port, rtcpPort: sink.rtcpPort });
    const room = node.rooms.get('room-1')!;
    const peer = [...room.peers.values()].find((p) => p.claims.sub === 'recorder-2')!;
    expect(peer.plainTransports.size).toBe(1);
    other.close();
    const deadline = Date.now() + 3000;
    while (peer.plainTransports.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(peer.plainTransports.size).toBe(0);
  });
});
