import { FLEET_DEAD_AFTER_MS, FLEET_PLACEMENT_WINDOW_MS } from '@podlive/shared/fleet';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../src/errors';
import { FleetPlacement } from '../../src/features/live/fleet/placement';
import { CONNECT_GRACE_MS } from '../../src/features/live/fleet/reserve';
import { setOrigin } from '../../src/features/live/fleet/set-origin';
import { captureLogger } from '../helpers';
import { FakeFleet, REDIS_URL, redisClient } from './registry';

const redis = redisClient();
const placements: FleetPlacement[] = [];
afterEach(async () => {
  await Promise.all(placements.splice(0).map((p) => p.close()));
});

/** A fleet under a fresh prefix, and a placement (one server replica) reading it. */
function setup(edgeLimit = 3): { fleet: FakeFleet; placement: FleetPlacement; replica: () => FleetPlacement } {
  const fleet = new FakeFleet(redis);
  const replica = () => {
    const placement = new FleetPlacement({ url: REDIS_URL, prefix: fleet.prefix, edgeLimit, logger: captureLogger().logger });
    placements.push(placement);
    return placement;
  };
  return { fleet, placement: replica(), replica };
}

const sid = () => randomUUID();
const ids = async (nodes: Promise<{ id: string }[]>) => (await nodes).map((n) => n.id);

async function serviceUnavailable(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe('SERVICE_UNAVAILABLE');
}

describe('FleetPlacement: the origin', () => {
  it('is the least loaded alive node that is not draining, and is written to the session’s tree', async () => {
    const { fleet, placement } = setup();
    await fleet.heartbeat('busy', { consumers: 600, capacity: 1000 });
    await fleet.heartbeat('hot-cpu', { consumers: 0, cpu: 0.9 });
    await fleet.heartbeat('idle-but-draining', { draining: true });
    await fleet.heartbeat('dead', {}, Date.now() - FLEET_DEAD_AFTER_MS - 1000);
    await fleet.heartbeat('light', { consumers: 100, capacity: 1000 });
    const id = sid();
    const origin = await placement.origin(id);
    expect(origin).toEqual({ id: 'light', publicWsUrl: 'wss://light.media.test', controlUrl: 'http://light.internal:4443' });
    expect(await fleet.tree(id)).toEqual({ origin: 'light' });
  });

  it('breaks load ties by id', async () => {
    const { fleet, placement } = setup();
    for (const id of ['node-c', 'node-a', 'node-b']) await fleet.heartbeat(id, { consumers: 10 });
    expect((await placement.origin(sid())).id).toBe('node-a');
  });

  it('answers SERVICE_UNAVAILABLE when no node is alive (or only draining ones)', async () => {
    const { fleet, placement } = setup();
    await serviceUnavailable(placement.origin(sid()));
    await fleet.heartbeat('draining', { draining: true });
    await fleet.heartbeat('dead', {}, Date.now() - FLEET_DEAD_AFTER_MS - 1);
    await serviceUnavailable(placement.origin(sid()));
  });

  it('keeps a live origin; after it died, a new origin resets the tree', async () => {
    const { fleet, placement } = setup();
    await fleet.heartbeat('a', { consumers: 1 });
    await fleet.heartbeat('b', { consumers: 5 });
    await fleet.heartbeat('c', { consumers: 9 });
    const id = sid();
    expect((await placement.origin(id)).id).toBe('a');
    await fleet.attach(id, 'b', 'a');
    await fleet.attach(id, 'c', 'b');
    // Asked again while it lives (another replica starting the same live): the same node, the tree kept.
    await fleet.heartbeat('b', { consumers: 0 });
    expect((await placement.origin(id)).id).toBe('a');
    expect(await fleet.tree(id)).toEqual({ origin: 'a', 'parent:b': 'a', 'parent:c': 'b' });

    await fleet.stale('a');
    expect((await placement.origin(id)).id).toBe('b');
    expect(await fleet.tree(id)).toEqual({ origin: 'b' });
  });

  it('takes the origin another replica set meanwhile instead of overwriting it (compare-and-set)', async () => {
    const { fleet, placement } = setup();
    const id = sid();
    const key = fleet.keys.session(id);
    await redis.hset(key, 'origin', 'theirs', 'parent:edge', 'theirs');
    // This replica read "dead" before choosing "mine": the hash moved on, nothing is written.
    expect(await setOrigin(redis, key, 'dead', 'mine')).toBe('theirs');
    expect(await fleet.tree(id)).toEqual({ origin: 'theirs', 'parent:edge': 'theirs' });
    expect(await setOrigin(redis, key, 'theirs', 'mine')).toBe('mine');
    expect(await fleet.tree(id)).toEqual({ origin: 'mine' });
    expect(await setOrigin(redis, fleet.keys.session(sid()), null, 'fresh')).toBe('fresh');
    // The placement keeps a live origin it finds in the hash, even when another node is less loaded now.
    await fleet.heartbeat('mine', { consumers: 900 });
    await fleet.heartbeat('idle');
    expect((await placement.origin(id)).id).toBe('mine');
  });
});

describe('FleetPlacement: viewers', () => {
  it('opens an edge on the least loaded node, fills it up to the limit, then opens a second one', async () => {
    const { fleet, placement } = setup(3);
    await fleet.heartbeat('origin', { consumers: 0 });
    await fleet.heartbeat('e-busy', { consumers: 500 });
    await fleet.heartbeat('e-light', { consumers: 50 });
    await fleet.heartbeat('e-mid', { consumers: 200 });
    const id = sid();
    const got: string[] = [];
    for (let i = 0; i < 7; i++) got.push((await placement.forViewer(id, 'origin')).id);
    // The viewers' connections would attach e-light to the tree; until then its placements say it carries the session.
    expect(got).toEqual(['e-light', 'e-light', 'e-light', 'e-mid', 'e-mid', 'e-mid', 'e-busy']);
    expect(await fleet.placed(id, 'e-light')).toBe(3);
    expect(await fleet.placed(id, 'e-mid')).toBe(3);
  });

  it('fills the session’s edges in id order, counting what each node reports and what was placed since', async () => {
    const { fleet, placement } = setup(5);
    const id = sid();
    await fleet.heartbeat('origin');
    await fleet.heartbeat('edge-b', { sessions: { [id]: { viewers: 4, parent: 'origin' } } });
    await fleet.heartbeat('edge-a', { sessions: { [id]: { viewers: 5, parent: 'origin' } } });
    await fleet.heartbeat('idle');
    await fleet.attach(id, 'edge-a', 'origin');
    await fleet.attach(id, 'edge-b', 'origin');
    // edge-a is full by its own report; edge-b has room for one; then a new edge.
    expect((await placement.forViewer(id, 'origin')).id).toBe('edge-b');
    expect((await placement.forViewer(id, 'origin')).id).toBe('idle');

    // edge-b reports the viewer it got (5 now): its placement is not counted twice, so it stays full.
    await fleet.heartbeat('edge-b', { sessions: { [id]: { viewers: 5, parent: 'origin' } } });
    // Placements the node has not reported yet still count: 4 reported + 1 placed after the report = full.
    await fleet.heartbeat('edge-a', { sessions: { [id]: { viewers: 1, parent: 'origin' } } });
    const next = [];
    for (let i = 0; i < 4; i++) next.push((await placement.forViewer(id, 'origin')).id);
    expect(next).toEqual(['edge-a', 'edge-a', 'edge-a', 'edge-a']);
    // 1 reported + 4 placed since the report = 5: full. `idle` (already an edge by its placement) gets the next.
    expect((await placement.forViewer(id, 'origin')).id).toBe('idle');
  });

  it('counts a node reporting the session’s room as carrying it (it re-attaches after a resume)', async () => {
    const { fleet, placement } = setup(10);
    const id = sid();
    await fleet.heartbeat('origin');
    await fleet.heartbeat('a-empty');
    await fleet.heartbeat('z-has-room', { consumers: 800, sessions: { [id]: { viewers: 2 } } });
    expect((await placement.forViewer(id, 'origin')).id).toBe('z-has-room');
  });

  it('never sends a viewer to the node it excludes, nor to a draining or dead one', async () => {
    const { fleet, placement } = setup(3);
    const id = sid();
    await fleet.heartbeat('origin');
    for (const edge of ['e1', 'e2', 'e3', 'e4']) {
      await fleet.heartbeat(edge);
      await fleet.attach(id, edge, 'origin');
    }
    await fleet.heartbeat('e1', { draining: true });
    await fleet.heartbeat('e2', {}, Date.now() - FLEET_DEAD_AFTER_MS - 500);
    expect((await placement.forViewer(id, 'origin', { exclude: 'e3' })).id).toBe('e4');
    expect((await placement.forViewer(id, 'origin')).id).toBe('e3');
    expect((await placement.forViewer(id, 'origin', {})).id).toBe('e3');
  });

  it('falls back to the origin, then to an edge over the limit, then answers SERVICE_UNAVAILABLE', async () => {
    const { fleet, placement } = setup(1);
    const id = sid();
    await fleet.heartbeat('origin');
    // Alone: the origin takes the viewers.
    expect((await placement.forViewer(id, 'origin')).id).toBe('origin');
    await fleet.heartbeat('edge-1');
    await fleet.heartbeat('edge-2');
    expect((await placement.forViewer(id, 'origin')).id).toBe('edge-1');
    expect((await placement.forViewer(id, 'origin')).id).toBe('edge-2');
    // Every edge is full and no other node is left.
    expect((await placement.forViewer(id, 'origin')).id).toBe('origin');
    // The origin excluded (the page lost it): the least full edge, over the limit.
    await fleet.heartbeat('edge-1', { sessions: { [id]: { viewers: 3 } } });
    expect((await placement.forViewer(id, 'origin', { exclude: 'origin' })).id).toBe('edge-2');
    // The origin draining and the only edge left excluded: nowhere.
    await fleet.heartbeat('origin', { draining: true });
    await fleet.stale('edge-2');
    await serviceUnavailable(placement.forViewer(id, 'origin', { exclude: 'edge-1' }));
    // Nothing alive at all.
    await serviceUnavailable(setup().placement.forViewer(sid(), 'gone'));
  });

  it('stops counting placements after the window', async () => {
    const { fleet, placement } = setup(1);
    const id = sid();
    await fleet.heartbeat('origin');
    await fleet.heartbeat('edge');
    // A placement from before the window (its viewer never came): no longer counted, no longer "carrying".
    await redis.zadd(fleet.keys.placed(id, 'edge'), Date.now() - FLEET_PLACEMENT_WINDOW_MS - 1, 'old');
    expect((await placement.forViewer(id, 'origin')).id).toBe('edge');
    expect(await fleet.placed(id, 'edge')).toBe(1);
    expect(await redis.pttl(fleet.keys.placed(id, 'edge'))).toBeGreaterThan(FLEET_PLACEMENT_WINDOW_MS - 1000);
  });

  it('two replicas placing 2×limit viewers at once never put more than the limit on one edge', async () => {
    const limit = 25;
    const { fleet, placement, replica } = setup(limit);
    const other = replica();
    const id = sid();
    await fleet.heartbeat('origin');
    for (const [i, edge] of ['e1', 'e2', 'e3', 'e4'].entries()) await fleet.heartbeat(edge, { consumers: i });
    const chosen = await Promise.all(Array.from({ length: 2 * limit }, (_, i) => (i % 2 === 0 ? placement : other).forViewer(id, 'origin')));
    const perNode = new Map<string, number>();
    for (const node of chosen) perNode.set(node.id, (perNode.get(node.id) ?? 0) + 1);
    // Two edges opened (not one per racing replica), each filled exactly to the limit.
    expect(Object.fromEntries(perNode)).toEqual({ e1: limit, e2: limit });
    expect(await fleet.placed(id, 'e1')).toBe(limit);
    expect(await fleet.placed(id, 'e2')).toBe(limit);
  });
});

describe('FleetPlacement: capacity', () => {
  const settled = async <T>(promises: Promise<T>[]) => {
    const results = await Promise.allSettled(promises);
    return {
      placed: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
      refused: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
    };
  };

  it('never sends a viewer to a node at capacity, even as the fallback, and refuses when every node is full', async () => {
    const { fleet, placement } = setup(100);
    const id = sid();
    // The origin is full by its own report; the edge has room for 3 viewers (2 consumers each).
    await fleet.heartbeat('origin', { capacity: 1000, consumers: 999 });
    await fleet.heartbeat('edge', { capacity: 10, consumers: 4 });
    for (let i = 0; i < 3; i++) expect((await placement.forViewer(id, 'origin')).id).toBe('edge');
    await serviceUnavailable(placement.forViewer(id, 'origin'));
    // Another live gets nothing there either: the capacity is the node's, whatever the live.
    await serviceUnavailable(placement.forViewer(sid(), 'origin'));
    // The node reports again just after: the 3 may not have connected yet, so they still count.
    await fleet.heartbeat('edge', { capacity: 10, consumers: 8 });
    await serviceUnavailable(placement.forViewer(id, 'origin'));
    // Reported again past the connect grace (the 3 placed that long ago; they joined: 6 consumers
    // more; one left): room for one.
    const placed = await redis.zrange(fleet.keys.nodePlaced('edge'), 0, -1);
    for (const member of placed) await redis.zadd(fleet.keys.nodePlaced('edge'), Date.now() - CONNECT_GRACE_MS - 1000, member);
    await fleet.heartbeat('edge', { capacity: 10, consumers: 8 });
    expect((await placement.forViewer(id, 'origin')).id).toBe('edge');
    await serviceUnavailable(placement.forViewer(id, 'origin'));
  });

  it('concurrent joins of three lives through two replicas fill every node exactly to its capacity, and no further', async () => {
    const { fleet, placement, replica } = setup(1000);
    const other = replica();
    const lives = [sid(), sid(), sid()];
    const room = { origin: 20, e1: 30, e2: 10, e3: 40 } as const;
    for (const [node, viewers] of Object.entries(room)) await fleet.heartbeat(node, { capacity: 1000, consumers: 1000 - 2 * viewers });
    const total = Object.values(room).reduce((a, b) => a + b, 0);
    const { placed, refused } = await settled(Array.from({ length: total + 25 }, (_, i) => (i % 2 === 0 ? placement : other).forViewer(lives[i % 3]!, 'origin')));
    const perNode: Record<string, number> = {};
    for (const node of placed) perNode[node.id] = (perNode[node.id] ?? 0) + 1;
    expect(perNode).toEqual(room);
    expect(refused).toHaveLength(25);
    for (const err of refused) expect((err as ApiError).code).toBe('SERVICE_UNAVAILABLE');
  });
});

describe('FleetPlacement: nodes', () => {
  it('knows alive nodes (draining too), not dead or unknown ones', async () => {
    const { fleet, placement } = setup();
    await fleet.heartbeat('up', { controlUrl: 'http://10.1.1.1:4443/', publicWsUrl: 'wss://up.example/' });
    await fleet.heartbeat('leaving', { draining: true });
    await fleet.heartbeat('gone', {}, Date.now() - FLEET_DEAD_AFTER_MS - 1);
    expect(await placement.node('up')).toEqual({ id: 'up', publicWsUrl: 'wss://up.example', controlUrl: 'http://10.1.1.1:4443' });
    expect((await placement.node('leaving'))?.id).toBe('leaving');
    expect(await placement.node('gone')).toBeNull();
    expect(await placement.node('never')).toBeNull();
    expect(await placement.node('')).toBeNull();
  });

  it('skips a node whose status does not parse', async () => {
    const { fleet, placement } = setup();
    await redis.multi().set(fleet.keys.node('broken'), JSON.stringify({ id: 'broken', ts: Date.now() })).zadd(fleet.keys.nodes, Date.now(), 'broken').exec();
    await fleet.heartbeat('fine', { consumers: 999 });
    expect(await placement.node('broken')).toBeNull();
    expect((await placement.origin(sid())).id).toBe('fine');
  });

  it('lists a session’s alive nodes: the origin first, then its edges and nodes reporting its room', async () => {
    const { fleet, placement } = setup();
    const id = sid();
    await fleet.heartbeat('origin');
    await fleet.heartbeat('z-edge');
    await fleet.heartbeat('a-edge');
    await fleet.heartbeat('dead-edge', {}, Date.now() - FLEET_DEAD_AFTER_MS - 1);
    await fleet.heartbeat('m-reporting', { sessions: { [id]: { viewers: 1 } } });
    await fleet.heartbeat('unrelated');
    await redis.hset(fleet.keys.session(id), 'origin', 'origin');
    for (const edge of ['z-edge', 'a-edge', 'dead-edge']) await fleet.attach(id, edge, 'origin');
    expect(await ids(placement.nodesOf(id, 'origin'))).toEqual(['origin', 'a-edge', 'm-reporting', 'z-edge']);
    await fleet.stale('origin');
    expect(await ids(placement.nodesOf(id, 'origin'))).toEqual(['a-edge', 'm-reporting', 'z-edge']);
    await placement.ended(id);
    expect(await fleet.tree(id)).toEqual({});
  });
});
