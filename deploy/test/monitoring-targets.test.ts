import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { metricsTargetsKey } from '@podlive/shared/metrics';
import { FORGET_AFTER_MS, readTargets } from '../monitoring/targets';

describe('metrics targets from Redis (npm run fleet -- targets)', () => {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const prefix = `podlive-test:${randomBytes(6).toString('hex')}:`;
  afterAll(async () => {
    await redis.del(metricsTargetsKey(prefix));
    redis.disconnect();
  });

  it('lists fresh and silent targets by job (a dead one stays, so its alert fires), forgets the long-gone and the unreadable', async () => {
    const now = Date.now();
    const key = metricsTargetsKey(prefix);
    const target = (job: string, instance: string, ageMs: number) => JSON.stringify({ job, instance, address: `127.0.0.1:${9000 + instance.length}`, ts: now - ageMs });
    await redis.hset(key, {
      'sfu/a': target('sfu', 'a', 1000),
      'sfu/dead': target('sfu', 'dead', 60_000),
      'sfu/gone': target('sfu', 'gone', FORGET_AFTER_MS + 1000),
      'server/s1:3000': target('server', 's1:3000', 0),
      'recorder/bad': '{not json',
      'recorder/odd': JSON.stringify({ job: 'nope', instance: 'x', address: '1.2.3.4:5', ts: now }),
    });
    const { targets, stale } = await readTargets(redis, prefix, now);
    expect(targets.sfu.map((t) => t.instance)).toEqual(['a', 'dead']);
    expect(targets.server.map((t) => t.address)).toEqual(['127.0.0.1:9007']);
    expect(targets.recorder).toEqual([]);
    expect(stale.map((t) => t.instance)).toEqual(['dead']);
    expect((await redis.hkeys(key)).sort()).toEqual(['server/s1:3000', 'sfu/a', 'sfu/dead']);
  });
});
