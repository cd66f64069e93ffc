import { afterEach, describe, expect, it } from 'vitest';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import '../src/worker-bin';
import { WorkerPool } from '../src/WorkerPool';
import { Room, type RoomProducer } from '../src/Room';

describe('Room', () => {
  let pool: WorkerPool | undefined;
  afterEach(() => pool?.close());

  it('addProducer() takes the producer in and tells every listener even when one of them throws', async () => {
    pool = await WorkerPool.create({ count: 1, listenIp: '127.0.0.1', portBase: await freeRtcPortBase(1) });
    const room = await Room.create('r', pool);
    // A real producer without a client: RTP would come over this plain transport.
    const transport = await room.router.createPlainTransport({ listenIp: '127.0.0.1', comedia: true, rtcpMux: true });
    const producer = await transport.produce({
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] },
    });
    const seen: string[] = [];
    room.on('producer', () => {
      throw new Error('a faulty watcher');
    });
    room.on('producer', (entry) => seen.push(entry.producer.id));
    const entry: RoomProducer = { producer, peerId: 'p1', userId: 'u1', source: 'mic' };

    expect(() => room.addProducer(entry)).not.toThrow();
    expect([room.producers.get(producer.id), seen]).toEqual([entry, [producer.id]]);
    expect(producer.closed).toBe(false);
    room.close();
  });
});
