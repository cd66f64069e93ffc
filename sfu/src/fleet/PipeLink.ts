import type { types } from 'mediasoup';
import type { NodeMessage, PipeEnd, PipedProducer } from '@podlive/shared/fleet';
import { moduleLogger } from '../Logger';
import type { Room, RoomProducer } from '../Room';

const logger = moduleLogger('PipeLink');

type Send = (message: Extract<NodeMessage, { type: 'pipe.producer' | 'pipe.producerClosed' | 'pipe.producerPaused' }> extends infer M
  ? M extends NodeMessage ? Omit<M, 'from' | 'sid'> : never : never) => void;

export interface PipeLinkOptions {
  listenIp: string;
  announcedIp?: string;
  srtp: boolean;
  /** Key frame requests from this side's viewers go up the pipe at most this often (ms). */
  keyFrameRequestDelay: number;
}

/**
 * One pipe between this node's room and a neighbour node's room for the same live: a mediasoup
 * PipeTransport pair (SRTP by default) carrying producers both ways. Outgoing producers are pipe
 * consumers here; incoming ones are pipe producers with the same ids as on the sending node, added
 * to the room like any other. Every operation on a link runs in order (a producer announced
 * before the pipe is connected waits for it).
 */
export class PipeLink {
  /** producer id → the pipe consumer sending it to the neighbour. */
  readonly #out = new Map<string, types.Consumer>();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly room: Room,
    readonly neighbour: string,
    readonly direction: 'upstream' | 'downstream',
    readonly transport: types.PipeTransport,
    readonly options: PipeLinkOptions,
    readonly send: Send,
  ) {
    // Closing the transport closes its consumers and producers; the room drops the producers.
    transport.observer.once('close', () => (this.#closed = true));
  }

  static async create(room: Room, neighbour: string, direction: 'upstream' | 'downstream', options: PipeLinkOptions, send: Send): Promise<PipeLink> {
    const transport = await room.router.createPipeTransport({
      listenIp: { ip: options.listenIp, ...(options.announcedIp ? { announcedIp: options.announcedIp } : {}) },
      enableSrtp: options.srtp,
      // Between hosts packets get lost: NACK/RTX across the pipe instead of waiting for a key frame.
      enableRtx: true,
      appData: { neighbour },
    });
    return new PipeLink(room, neighbour, direction, transport, options, send);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** This side's address, port and SRTP key, for the neighbour to connect to. */
  get end(): PipeEnd {
    const { localIp, localPort } = this.transport.tuple;
    const srtp = this.transport.srtpParameters;
    return { ip: this.options.announcedIp ?? localIp, port: localPort, ...(srtp ? { srtp } : {}) };
  }

  /** Runs `job` after every earlier operation on this link; errors are logged, never thrown. */
  enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#closed) return;
      try {
        await job();
      } catch (err) {
        if (!this.#closed) logger.warn({ roomId: this.room.id, neighbour: this.neighbour, err: (err as Error).message }, 'pipe operation failed');
      }
    });
    this.#queue = run;
    return run;
  }

  async connect(remote: PipeEnd): Promise<void> {
    await this.transport.connect({ ip: remote.ip, port: remote.port, ...(remote.srtp ? { srtpParameters: remote.srtp as types.SrtpParameters } : {}) });
  }

  /**
   * Starts sending a producer of the room to the neighbour; returns its description for the
   * neighbour (undefined when it already goes there or came from there).
   */
  async export(entry: RoomProducer): Promise<PipedProducer | undefined> {
    const { producer } = entry;
    if (entry.via === this.neighbour || this.#out.has(producer.id) || producer.closed) return undefined;
    const consumer = await this.transport.consume({ producerId: producer.id });
    this.#out.set(producer.id, consumer);
    const forget = () => {
      if (this.#out.get(producer.id) === consumer) this.#out.delete(producer.id);
    };
    consumer.observer.once('close', forget);
    consumer.on('producerclose', () => {
      forget();
      consumer.close();
      if (!this.#closed) this.send({ type: 'pipe.producerClosed', producerId: producer.id });
    });
    consumer.on('producerpause', () => this.send({ type: 'pipe.producerPaused', producerId: producer.id, paused: true }));
    consumer.on('producerresume', () => this.send({ type: 'pipe.producerPaused', producerId: producer.id, paused: false }));
    return {
      id: producer.id,
      kind: producer.kind,
      rtpParameters: consumer.rtpParameters as unknown as Record<string, unknown>,
      paused: consumer.producerPaused,
      appData: { peerId: entry.peerId, userId: entry.userId, source: entry.source },
    };
  }

  /** A producer the neighbour sends: recreated here with the same id and added to the room. */
  async import(piped: PipedProducer): Promise<void> {
    if (this.room.producers.has(piped.id)) return;
    const delay = this.options.keyFrameRequestDelay;
    const producer = await this.transport.produce({
      id: piped.id,
      kind: piped.kind,
      rtpParameters: piped.rtpParameters as unknown as types.RtpParameters,
      paused: piped.paused,
      appData: { ...piped.appData },
      // One key frame request per edge per window however many of its viewers ask at once.
      ...(piped.kind === 'video' && delay ? { keyFrameRequestDelay: delay } : {}),
    });
    this.room.addProducer({ producer, peerId: piped.appData.peerId, userId: piped.appData.userId, source: piped.appData.source, via: this.neighbour });
  }

  /** The neighbour closed a producer it sent: close our copy (the room's peers are told). */
  importClosed(producerId: string): void {
    const entry = this.room.producers.get(producerId);
    if (entry?.via === this.neighbour) entry.producer.close();
  }

  async importPaused(producerId: string, paused: boolean): Promise<void> {
    const entry = this.room.producers.get(producerId);
    if (entry?.via !== this.neighbour) return;
    await (paused ? entry.producer.pause() : entry.producer.resume());
  }

  /** Closes the pipe: what came through it leaves the room, what went through it stops. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.transport.close();
  }
}
