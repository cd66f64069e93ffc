import fc from 'fast-check';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type protooClient from 'protoo-client';
import { z } from 'zod';
import { MEDIA_MAX_MESSAGE_BYTES, mediaRequestSchemas, type MediaRequestMethod } from '@podlive/shared/protocol';
import { signMediaToken } from '@podlive/shared/tokens';
import { KEYS, connect, rawSocket, token } from './helpers';
import { NodeProcess, type NodeHealth } from './node-process';

const SID = 'fuzz';
const METHODS = Object.keys(mediaRequestSchemas);
const OPUS = { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 33333333 }] };

type Pool = 'transport' | 'producer' | 'consumer';
/**
 * An id field: mostly a reference to an id of that kind the node handed out on this connection
 * (filled in when sent), sometimes one of another kind, or anything.
 */
const idValue = (pool: Pool) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.nat().map((k) => ({ $ref: pool, k })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom<Pool>('transport', 'producer', 'consumer'), fc.nat()).map(([p, k]) => ({ $ref: p, k })) },
    fc.string({ maxLength: 80 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
const maybe = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) });
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0').toUpperCase()).join(':');

/** Every field a method reads: valid-looking values (often), or anything. */
const fields = (caps: unknown): Record<string, fc.Arbitrary<unknown>> => ({
  transportId: idValue('transport'), producerId: idValue('producer'), consumerId: idValue('consumer'),
  direction: maybe(fc.constantFrom('send', 'recv')),
  kind: maybe(fc.constantFrom('audio', 'video')),
  rtpParameters: maybe(fc.record({ codecs: fc.constant(OPUS.codecs), encodings: fc.array(fc.record({ ssrc: fc.oneof(fc.nat(), fc.integer()) }), { maxLength: 3 }) })),
  dtlsParameters: maybe(fc.oneof(
    fc.constant({ role: 'client', fingerprints: [{ algorithm: 'sha-256', value: FINGERPRINT }] }),
    fc.record({ role: fc.constantFrom('client', 'server', 'auto', 'x'), fingerprints: fc.array(fc.record({ algorithm: fc.constantFrom('sha-256', 'md5', ''), value: fc.string() }), { maxLength: 2 }) }),
  )),
  rtpCapabilities: maybe(fc.constant(caps)),
  appData: maybe(fc.record({ source: fc.constantFrom('mic', 'camera', 'screen') }, { requiredKeys: [] })),
  token: maybe(fc.oneof(fc.string({ minLength: 20, maxLength: 300 }), fc.constant('eyJhbGciOiJIUzI1NiJ9.e30.' + 'x'.repeat(43)))),
  ip: maybe(fc.oneof(fc.ipV4(), fc.ipV6())),
  port: maybe(fc.integer({ min: -1, max: 70_000 })), rtcpPort: maybe(fc.integer({ min: -1, max: 70_000 })),
  spatialLayer: maybe(fc.integer({ min: -1, max: 3 })), temporalLayer: maybe(fc.integer({ min: -1, max: 3 })),
  // Sizes up to the frame limit and a little past it (that closes the connection).
  pad: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 2000 }) }, { weight: 1, arbitrary: fc.nat({ max: MEDIA_MAX_MESSAGE_BYTES + 4096 }) }).map((n) => 'x'.repeat(n)),
});

/** The fields of a method's schema (shared/src/protocol.ts). */
function fieldsOf(method: string): string[] {
  let schema = mediaRequestSchemas[method as MediaRequestMethod] as z.ZodType;
  if (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType;
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

/** Request data: a method's own fields (each valid-looking or not), or any mix of fields, or any JSON. */
const requestData = (method: string, caps: unknown) => {
  const all = fields(caps);
  const own = Object.fromEntries(fieldsOf(method).map((name) => [name, all[name] ?? fc.jsonValue()]));
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.record(own), fc.record({ pad: all.pad!, extra: fc.jsonValue({ maxDepth: 2 }) }, { requiredKeys: [] })).map(([a, b]) => ({ ...b, ...a })) },
    { weight: 2, arbitrary: fc.record(all, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
};

type Frame = { kind: 'request'; method: string; data: unknown } | { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array };

const request = (caps: unknown): fc.Arbitrary<Frame> =>
  fc
    .oneof({ weight: 9, arbitrary: fc.constantFrom(...METHODS) }, { weight: 1, arbitrary: fc.string() })
    .chain((method) => requestData(method, caps).map((data) => ({ kind: 'request' as const, method, data })));

const frames = (caps: unknown): fc.Arbitrary<Frame> =>
  fc.oneof(
    { weight: 6, arbitrary: request(caps) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), text: fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string(), fc.constantFrom('null', '[]', '{"request":true}', '{"response":true,"id":1}')) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('binary' as const), bytes: fc.uint8Array({ maxLength: 2048 }) }) },
  );

/** Half the runs start as a real client does (join, a transport of each direction), so later requests reach deeper. */
const prelude = (caps: unknown): Frame[] => [
  { kind: 'request', method: 'join', data: { rtpCapabilities: caps } },
  { kind: 'request', method: 'createWebRtcTransport', data: { direction: 'recv' } },
  { kind: 'request', method: 'createWebRtcTransport', data: { direction: 'send' } },
];

interface Response {
  response: true;
  id: number;
  ok?: boolean;
  errorCode?: number;
  errorReason?: string;
  data?: { id?: unknown };
}

/** One fuzzing connection: sends frames, waits for each request's answer (or the socket's end). */
class FuzzClient {
  readonly ids: Record<Pool, string[]>;
  readonly #waiting = new Map<number, (r: Response | null) => void>();
  readonly serverErrors: string[] = [];
  #next = 1;
  #closed = false;

  constructor(readonly socket: WebSocket, producerIds: string[]) {
    this.ids = { transport: [], producer: [...producerIds], consumer: [] };
    socket.on('message', (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as Partial<Response>;
      if (!message.response || typeof message.id !== 'number') return;
      this.#waiting.get(message.id)?.(message as Response);
    });
    socket.once('close', () => {
      this.#closed = true;
      for (const resolve of this.#waiting.values()) resolve(null);
    });
  }

  #resolve(ref: { $ref: Pool; k: number }): string {
    const pool = this.ids[ref.$ref];
    return pool[ref.k % pool.length] ?? `no-${ref.$ref}-yet`;
  }

  async send(frame: Frame): Promise<void> {
    if (this.#closed) return;
    if (frame.kind === 'binary') return this.socket.send(frame.bytes);
    if (frame.kind === 'text') return this.socket.send(frame.text);
    const id = this.#next++;
    const text = JSON.stringify({ request: true, id, method: frame.method, data: frame.data }, (_key, value: unknown) =>
      value && typeof value === 'object' && '$ref' in value && 'k' in value && Object.keys(value).length === 2 ? this.#resolve(value as { $ref: Pool; k: number }) : value,
    );
    const answered = new Promise<Response | null>((resolve) => this.#waiting.set(id, resolve));
    this.socket.send(text);
    const response = await answered;
    this.#waiting.delete(id);
    if (!response) return; // the node closed this connection (a frame over the limit)
    if (!response.ok && (response.errorCode ?? 500) >= 500) this.serverErrors.push(`${frame.method} → ${response.errorCode} ${response.errorReason}: ${text.slice(0, 300)}`);
    const pool: Pool | undefined = { createWebRtcTransport: 'transport', produce: 'producer', consume: 'consumer', createPlainConsumer: 'consumer' }[frame.method] as Pool | undefined;
    if (response.ok && pool && typeof response.data?.id === 'string') this.ids[pool].push(response.data.id);
  }

  close(): void {
    this.socket.close();
  }
}

describe('protocol fuzz of the signalling WebSocket (fast-check, fixed seed, a real node process)', () => {
  let node: NodeProcess;
  let before: NodeHealth;
  let host: protooClient.Peer;
  let caps: unknown;
  let producerId: string;

  beforeAll(async () => {
    // Every connection of the run comes from this one address: no per-address connection limit here.
    node = await NodeProcess.start({ SFU_CONNECTS_PER_MINUTE: '0' });
    before = await node.health();
    host = await connect(node.url, `token=${await token({ sid: SID, sub: 'host', role: 'host' })}`);
    caps = await host.request('getRouterRtpCapabilities');
    await host.request('join', { rtpCapabilities: caps });
    const send = (await host.request('createWebRtcTransport', { direction: 'send' })) as { id: string };
    producerId = ((await host.request('produce', { transportId: send.id, kind: 'audio', rtpParameters: OPUS })) as { id: string }).id;
  });
  afterAll(async () => {
    host.close();
    await node.stop();
  });

  it('random frames and requests by viewers and hosts: no exit, no 5xx, the same workers, and a real peer still joins', { timeout: 120_000 }, async () => {
    const serverErrors: string[] = [];
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('viewer', 'host'), fc.boolean(), fc.array(frames(caps), { minLength: 1, maxLength: 12 }), async (role, prepared, random) => {
        const sequence = prepared ? [...prelude(caps), ...random] : random;
        runs++;
        const socket = await rawSocket(node.url, `token=${await signMediaToken(KEYS.privateKey, { sid: SID, sub: `fuzz-${role}`, role, node: 'node-t' })}`);
        const client = new FuzzClient(socket, [producerId]);
        try {
          for (const frame of sequence) await client.send(frame);
        } finally {
          client.close();
        }
        serverErrors.push(...client.serverErrors);
        if (client.serverErrors.length > 0) throw new Error(`internal errors for bad input:\n${client.serverErrors.join('\n')}`);
        return node.alive;
      }),
      // A fixed seed and a bounded run (a few seconds); FUZZ_SEED / FUZZ_RUNS explore further by hand.
      { seed: Number(process.env.FUZZ_SEED ?? 16_016), numRuns: Number(process.env.FUZZ_RUNS ?? 250), endOnFailure: true },
    );
    expect(runs).toBeGreaterThan(0);
    expect(serverErrors).toEqual([]);

    expect(node.alive).toBe(true);
    const now = await node.health();
    expect(now.pid).toBe(before.pid);
    expect(now.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid));

    // A legitimate viewer joins and consumes the host's producer.
    const viewer = await connect(node.url, `token=${await token({ sid: SID, sub: 'after-fuzz' })}`);
    const joined = (await viewer.request('join', { rtpCapabilities: caps })) as { producers: { producerId: string }[] };
    expect(joined.producers.map((p) => p.producerId)).toContain(producerId);
    const recv = (await viewer.request('createWebRtcTransport', { direction: 'recv' })) as { id: string };
    expect(await viewer.request('consume', { producerId, transportId: recv.id })).toMatchObject({ producerId, kind: 'audio' });
    viewer.close();
  });

  it('random upgrade requests get a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.webQueryParameters(), fc.constantFrom('token=', 'token=%', 'token=%%', 'token=a.b.c')), async (query) => {
        let status: number | undefined;
        try {
          (await rawSocket(node.url, query)).close();
        } catch (err) {
          if (err instanceof SyntaxError) return true; // a URL the client itself refuses to send
          status = (err as { status?: number }).status;
        }
        return status !== undefined && status >= 400 && status < 500;
      }),
      { seed: 16_016, numRuns: 60 },
    );
    expect(node.alive).toBe(true);
  });
});
