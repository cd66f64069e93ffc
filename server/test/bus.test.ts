import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { BusClosedError, createBus, InProcessBus, RedisBus, type Bus } from '../src/bus';
import { captureLogger } from './helpers';

const REDIS_URL = 'redis://127.0.0.1:6379';
/** Unique per run, so parallel runs (and other suites) on the same Redis never see each other. */
const runPrefix = `podlive-test:${randomUUID()}:`;

/** Subscribes and keeps what arrives; `waitFor(n)` resolves once n messages are in. */
async function collect(bus: Bus, channel: string) {
  const messages: unknown[] = [];
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const unsubscribe = await bus.subscribe(channel, (message) => {
    messages.push(message);
    for (const waiter of waiters.filter((w) => messages.length >= w.count)) waiter.resolve();
  });
  const waitFor = (count: number) =>
    new Promise<unknown[]>((resolve) => {
      if (messages.length >= count) return resolve(messages);
      waiters.push({ count, resolve: () => resolve(messages) });
    });
  return { messages, waitFor, unsubscribe };
}

const open: Bus[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((bus) => bus.close()));
});
const make = (factory: (logger: ReturnType<typeof captureLogger>['logger']) => Bus) => {
  const { logger, lines } = captureLogger();
  const bus = factory(logger);
  open.push(bus);
  return { bus, lines };
};

describe.each([
  ['InProcessBus', (logger) => new InProcessBus({ logger })],
  ['RedisBus', (logger) => new RedisBus({ url: REDIS_URL, prefix: runPrefix, logger })],
] satisfies Array<[string, Parameters<typeof make>[0]]>)('%s', (_name, factory) => {
  it('delivers a message published after subscribe() resolved, as a JSON copy', async () => {
    const { bus } = make(factory);
    const inbox = await collect(bus, 'live');
    const sent = { session: 's1', at: new Date('2025-01-01T00:00:00Z'), skip: undefined, nested: { n: [1, 2] } };
    await bus.publish('live', sent);
    const [received] = await inbox.waitFor(1);
    expect(received).toEqual({ session: 's1', at: '2025-01-01T00:00:00.000Z', nested: { n: [1, 2] } });
    expect(received).not.toBe(sent);
  });

  it('keeps publish order on a channel and gives every handler its own copy', async () => {
    const { bus } = make(factory);
    const a = await collect(bus, 'order');
    const b = await collect(bus, 'order');
    for (let i = 0; i < 20; i++) await bus.publish('order', { i });
    const expected = Array.from({ length: 20 }, (_, i) => ({ i }));
    expect(await a.waitFor(20)).toEqual(expected);
    expect(await b.waitFor(20)).toEqual(expected);
    expect(a.messages[0]).not.toBe(b.messages[0]);
  });

  it('does not deliver other channels', async () => {
    const { bus } = make(factory);
    const a = await collect(bus, 'chan-a');
    const b = await collect(bus, 'chan-b');
    await bus.publish('chan-b', 'for b');
    await bus.publish('chan-a', 'for a');
    await a.waitFor(1);
    await b.waitFor(1);
    expect(a.messages).toEqual(['for a']);
    expect(b.messages).toEqual(['for b']);
  });

  it('stops delivering to a handler after its unsubscribe, others keep receiving', async () => {
    const { bus } = make(factory);
    const leaving = await collect(bus, 'room');
    const staying = await collect(bus, 'room');
    await leaving.unsubscribe();
    await leaving.unsubscribe();
    await bus.publish('room', 1);
    await bus.publish('room', 2);
    expect(await staying.waitFor(2)).toEqual([1, 2]);
    expect(leaving.messages).toEqual([]);
  });

  it('stops delivering a channel whose last handler left', async () => {
    const { bus } = make(factory);
    const gone = await collect(bus, 'gone');
    await gone.unsubscribe();
    const sentinel = await collect(bus, 'sentinel');
    await bus.publish('gone', 'lost');
    await bus.publish('sentinel', 'done');
    await sentinel.waitFor(1);
    expect(gone.messages).toEqual([]);
    const again = await collect(bus, 'gone');
    await bus.publish('gone', 'back');
    expect(await again.waitFor(1)).toEqual(['back']);
  });

  it('logs a throwing or rejecting handler and still delivers to the others', async () => {
    const { bus, lines } = make(factory);
    await bus.subscribe('faulty', () => {
      throw new Error('handler exploded');
    });
    await bus.subscribe('faulty', async () => {
      throw new Error('async handler exploded');
    });
    const healthy = await collect(bus, 'faulty');
    await bus.publish('faulty', 'x');
    await bus.publish('faulty', 'y');
    expect(await healthy.waitFor(2)).toEqual(['x', 'y']);
    // Failing handlers run before the healthy one, and a rejection is caught before the next message.
    expect(lines.filter((line) => line.msg === 'bus handler failed' && line.channel === 'faulty')).toHaveLength(4);
    const messages = lines.map((line) => (line.err as { message?: string } | undefined)?.message);
    expect(messages).toContain('handler exploded');
    expect(messages).toContain('async handler exploded');
  });

  it('rejects values JSON cannot carry', async () => {
    const { bus } = make(factory);
    await expect(bus.publish('bad', undefined)).rejects.toThrow(TypeError);
  });

  it('answers ping, closes idempotently, then refuses publish and subscribe', async () => {
    const { bus } = make(factory);
    await expect(bus.ping()).resolves.toBeUndefined();
    await bus.close();
    await bus.close();
    await expect(bus.publish('x', 1)).rejects.toThrow(BusClosedError);
    await expect(bus.subscribe('x', () => {})).rejects.toThrow(BusClosedError);
    await expect(bus.ping()).rejects.toThrow(BusClosedError);
  });
});

describe('RedisBus across replicas', () => {
  const replica = (prefix = runPrefix) => make((logger) => new RedisBus({ url: REDIS_URL, prefix, logger })).bus;

  it('delivers a message published on one replica to subscribers on both', async () => {
    const one = replica();
    const two = replica();
    const onOne = await collect(one, 'user:42');
    const onTwo = await collect(two, 'user:42');
    await one.publish('user:42', { type: 'stage_invite', from: 'host' });
    expect(await onTwo.waitFor(1)).toEqual([{ type: 'stage_invite', from: 'host' }]);
    expect(await onOne.waitFor(1)).toEqual([{ type: 'stage_invite', from: 'host' }]);
  });

  it('keeps buses with different prefixes apart', async () => {
    const ours = replica();
    const theirs = replica(`${runPrefix}other:`);
    const foreign = await collect(theirs, 'shared');
    const sentinel = await collect(theirs, 'sentinel');
    await ours.publish('shared', 'not for them');
    await ours.publish('sentinel', 'not for them either');
    await theirs.publish('sentinel', 'done');
    expect(await sentinel.waitFor(1)).toEqual(['done']);
    expect(foreign.messages).toEqual([]);
  });
});

describe('createBus', () => {
  it('picks Redis when REDIS_URL is set and the in-process bus otherwise', async () => {
    const { logger } = captureLogger();
    const redis = createBus({ redisUrl: REDIS_URL }, logger);
    open.push(redis);
    const local = createBus({ redisUrl: undefined }, logger);
    open.push(local);
    expect(redis).toBeInstanceOf(RedisBus);
    expect(local).toBeInstanceOf(InProcessBus);
  });
});
