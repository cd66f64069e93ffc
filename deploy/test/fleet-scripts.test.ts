import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { WEBRTC_CAP_FIELD, fleetKeys } from '@podlive/shared/fleet';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';
import { listNodes } from '../fleet/registry';
import { startNode } from '../fleet/start-node';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLI = fileURLToPath(new URL('../fleet/cli.ts', import.meta.url));

describe('fleet operator scripts (real node processes, real Redis)', () => {
  const prefix = `podlive-test:${randomBytes(6).toString('hex')}:`;
  const keys = fleetKeys(prefix);
  const redis = new Redis(REDIS_URL);
  const pids: number[] = [];
  // The operator's shell holds the control plane's private key; the nodes it starts get the public half only.
  const tokenKeys = testKeyPair();
  const env = { REDIS_URL, REDIS_PREFIX: prefix, MEDIA_TOKEN_PRIVATE_KEY: tokenKeys.privatePem, LOG_LEVEL: 'info' };
  const cli = (...args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, ...env } });

  afterAll(async () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const left = await redis.keys(`${prefix}*`);
    if (left.length > 0) await redis.del(...left);
    redis.disconnect();
  });

  it('start adds nodes, list shows their load, drain empties one and stops it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'podlive-fleet-'));
    for (const [id, ip] of [['n1', '127.0.0.21'], ['n2', '127.0.0.22']] as const) {
      const started = await startNode(redis, keys, {
        id, ip, port: await freeTcpPort(ip), controlPort: await freeTcpPort(ip), rtcPort: await freeRtcPortBase(1, ip), workers: 1, region: 'test', log: join(dataDir, `${id}.log`),
        env: { ...env, DATA_DIR: dataDir },
      });
      pids.push(started.pid);
      // The node process's environment: the public key, derived; nothing that can sign a token.
      const environ = (await readFile(`/proc/${started.pid}/environ`, 'utf8')).split('\0');
      expect(environ).toContain(`MEDIA_TOKEN_PUBLIC_KEY=${tokenKeys.publicPem}`);
      expect(environ.filter((line) => /^MEDIA_TOKEN_(PRIVATE_KEY|SECRET)=|PRIVATE KEY/.test(line))).toEqual([]);
      expect(started.publicWsUrl).toMatch(new RegExp(`^ws://${ip.replaceAll('.', '\\.')}:`));
    }
    const { stdout } = await cli('list');
    expect(stdout).toMatch(/^NODE\s+STATE\s+REGION/);
    expect(stdout).toMatch(/n1\s+up\s+test\s+ws:\/\/127\.0\.0\.21:\d+\s+0\s+0\s+0\s+640\s+\d+%/);
    expect(stdout).toMatch(/n2\s+up\s+test/);

    const drained = await cli('drain', 'n1', '--timeout', '30');
    expect(drained.stdout).toContain('node n1 drained and stopped');
    // The process is gone and the registry forgot it; n2 is untouched.
    expect(() => process.kill(pids[0]!, 0)).toThrow();
    const ids = (await listNodes(redis, keys)).map((n) => `${n.id}:${n.alive}`);
    expect(ids).toEqual(['n2:true']);
  }, 90_000);

  it('refuses what it cannot do with a clear message and exit code', async () => {
    await expect(cli('drain', 'nobody')).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining('node nobody is not alive in the registry') });
    await expect(cli('start', '--id', 'x')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('start needs --id <node id> and --ip') });
    await expect(cli('explode')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command explode') });
  });

  it('cap sets a live’s WebRTC cap where the control plane reads it, and off removes it; bad input changes nothing', async () => {
    const live = '3f1e7a52-8c1d-4b7e-9a55-0c2b8d4e6f10';
    expect((await cli('cap', live, '25')).stdout).toContain('at most 25 WebRTC viewers');
    expect(await redis.hget(keys.session(live), WEBRTC_CAP_FIELD)).toBe('25');
    await expect(cli('cap', live, 'lots')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('is not a number of viewers') });
    await expect(cli('cap', 'not-a-live', '3')).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('cap needs the live id') });
    expect(await redis.hget(keys.session(live), WEBRTC_CAP_FIELD)).toBe('25');
    await cli('cap', live, 'off');
    expect(await redis.hget(keys.session(live), WEBRTC_CAP_FIELD)).toBeNull();
  });
});
