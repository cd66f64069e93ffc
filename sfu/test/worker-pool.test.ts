import { afterEach, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import '../src/worker-bin';
import { WorkerPool } from '../src/WorkerPool';
import { Room } from '../src/Room';

describe('WorkerPool', () => {
  let pool: WorkerPool | undefined;
  afterEach(() => pool?.close());

  it('starts one worker and one WebRtcServer per requested core, each on its own port', async () => {
    const portBase = await freeRtcPortBase(2);
    pool = await WorkerPool.create({ count: 2, listenIp: '127.0.0.1', portBase });
    const loads = await pool.loads();
    expect(loads.map((l) => l.port)).toEqual([portBase, portBase + 1]);
    expect(new Set(loads.map((l) => l.pid)).size).toBe(2);
  });

  it('places rooms on the least loaded worker', async () => {
    pool = await WorkerPool.create({ count: 2, listenIp: '127.0.0.1', portBase: await freeRtcPortBase(2) });
    const a = await Room.create('a', pool);
    const b = await Room.create('b', pool);
    expect((await pool.loads()).map((l) => l.routers)).toEqual([1, 1]);
    a.close();
    b.close();
    expect((await pool.loads()).map((l) => l.routers)).toEqual([0, 0]);
  });

  it('fails with a clear error when its port is taken', async () => {
    const portBase = await freeRtcPortBase(1);
    pool = await WorkerPool.create({ count: 1, listenIp: '127.0.0.1', portBase });
    await expect(WorkerPool.create({ count: 1, listenIp: '127.0.0.1', portBase })).rejects.toThrow(/cannot listen on 127\.0\.0\.1/);
  });

  it('a dead worker closes its rooms and is replaced on the same port', async () => {
    const portBase = await freeRtcPortBase(1);
    pool = await WorkerPool.create({ count: 1, listenIp: '127.0.0.1', portBase });
    const room = await Room.create('r', pool);
    const oldPid = pool.workers[0]!.worker.pid;
    const roomClosed = once(room, 'close');
    process.kill(oldPid, 'SIGKILL');
    await roomClosed;
    expect(room.closed).toBe(true);
    await expect.poll(() => pool!.workers[0]?.worker.pid, { timeout: 10_000 }).not.toBe(oldPid);
    expect((await pool.loads())[0]).toMatchObject({ port: portBase, routers: 0 });
  });

  it('close() twice does nothing the second time', async () => {
    pool = await WorkerPool.create({ count: 1, listenIp: '127.0.0.1', portBase: await freeRtcPortBase(1) });
    pool.close();
    expect(() => pool!.close()).not.toThrow();
    expect(pool.closed).toBe(true);
  });
});
