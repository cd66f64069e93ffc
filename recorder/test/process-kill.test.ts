import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '@podlive/sfu';
import { loadConfig as sfuConfig } from '@podlive/sfu/config';
import { createStorage } from '@podlive/storage';
import type { RecordingManifest } from '@podlive/shared/recording';
import type { ControlScope } from '@podlive/shared/tokens';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';
import { FilePublisher } from '../../sfu/load/file-publisher';
import { findOrphanFfmpegs } from '../src/capture/orphans';
import { loadConfig } from '../src/config';
import { readManifest } from '../src/live/manifest';
import { commandToken, controlPlane, KEYS, reportToken, startBody, until } from './helpers/control-plane';

/**
 * The recorder as operators run it, a process of its own (`node src/main.ts`), killed with SIGKILL
 * mid-live and started again on the same data directory: it kills the FFmpegs its predecessor
 * left, resumes the live from the manifest in storage, and finishes the job after the end.
 */

const CHUNK_SECONDS = 2;
const MAIN = join(import.meta.dirname, '..', 'src', 'main.ts');

describe('the recorder process killed mid-live', () => {
  let node: MediaNode;
  let plane: Awaited<ReturnType<typeof controlPlane>>;
  let dataDir: string;
  let port: number;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    plane = await controlPlane();
    node = await MediaNode.start(sfuConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'kill-node', MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, RTC_PORT_BASE: String(await freeRtcPortBase(1)) }));
    dataDir = await mkdtemp(join(tmpdir(), 'podlive-recorder-process-'));
    port = await freeTcpPort();
  }, 60_000);

  afterAll(async () => {
    child?.kill('SIGKILL');
    await node?.close();
    plane?.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** Starts `node src/main.ts` and waits for its /health. */
  async function startRecorder(): Promise<ChildProcess> {
    // The in-process finishing queue (kept under DATA_DIR): no Redis, whatever this shell has.
    const { REDIS_URL: _redis, ...env } = process.env;
    const proc = spawn(process.execPath, ['--import', 'tsx', MAIN], {
      env: {
        ...env, DATA_DIR: dataDir, MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, SERVER_URL: plane.url, RECORDER_PORT: String(port),
        RECORDER_CHUNK_SECONDS: String(CHUNK_SECONDS), LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = once(proc, 'exit').then(() => {
      throw new Error(`the recorder exited at start: ${stderr}`);
    });
    const healthy = until(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      return res?.ok ? true : undefined;
    }, 'the recorder’s /health', 30_000);
    await Promise.race([healthy, exited]);
    exited.catch(() => undefined);
    return proc;
  }

  async function control(scope: ControlScope, path: string, body: unknown): Promise<number> {
    const res = await fetch(`http://127.0.0.1:${port}/control${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await commandToken(scope)}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    return res.status;
  }

  it('a restarted recorder kills the orphaned FFmpegs, resumes the live where storage says, and finishes it after the end', { timeout: 120_000 }, async () => {
    const config = loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem });
    const storage = createStorage(config.storage);
    const manifest = async () => (await readManifest(storage, sessionId)) ?? undefined;
    const chunks = (m: RecordingManifest | undefined) => m?.renditions.r0?.segments ?? [];
    const sessionId = randomUUID();
    const hostId = randomUUID();
    const publisher = await FilePublisher.start({ node, session: sessionId, key: KEYS.privateKey, userId: hostId, layers: 1 });
    try {
      child = await startRecorder();
      expect(await control('recording:start', '/recordings', await startBody(sessionId, hostId, { id: 'kill-node', url: node.url }))).toBe(202);
      await until(async () => (chunks(await manifest()).length >= 2 ? true : undefined), '2 chunks in storage', 30_000);
      const ffmpegs = await findOrphanFfmpegs(config.RECORDER_WORK_DIR);
      expect(ffmpegs, 'the recorder’s FFmpeg, found by its working directory').toHaveLength(1);

      child.kill('SIGKILL');
      await once(child, 'exit');
      const before = chunks(await manifest());
      // Its FFmpeg outlives it (nothing kills a child of a SIGKILLed process).
      expect(await findOrphanFfmpegs(config.RECORDER_WORK_DIR)).toEqual(ffmpegs);

      child = await startRecorder();
      // active.json names the live: the new recorder resumes it without being told.
      await until(async () => (chunks(await manifest()).length >= before.length + 2 ? true : undefined), '2 more chunks after the restart', 30_000);
      const orphans = await findOrphanFfmpegs(config.RECORDER_WORK_DIR);
      expect(orphans.filter((pid) => ffmpegs.includes(pid)), 'the orphaned FFmpeg is gone').toEqual([]);
      expect(orphans, 'the new recorder’s own FFmpeg').toHaveLength(1);
      const resumed = chunks(await manifest());
      expect(resumed.slice(0, before.length), 'chunks uploaded before the kill are kept').toEqual(before);
      expect(resumed.map((c) => c.index), 'numbering goes on').toEqual(resumed.map((_, i) => i));
      expect(new Set(resumed.map((c) => c.run)).size, 'a new run after the restart').toBe(2);
      // The dead recorder's work directory went with its FFmpeg.
      const sessionDirs = await readdir(join(config.RECORDER_WORK_DIR, sessionId, 'r0'));
      expect(sessionDirs).toHaveLength(1);

      expect(await control('recording:stop', `/recordings/${sessionId}/stop`, { reportToken: await reportToken(sessionId) })).toBe(202);
      const result = await until(() => plane.finished.get(sessionId), 'the finished recording at the control plane', 60_000);
      expect(result.status).toBe('ready');
      const recorded = chunks(await manifest()).reduce((n, c) => n + c.durationSec, 0);
      expect(result.durationSec).toBeGreaterThanOrEqual(Math.floor(recorded));
      expect(JSON.parse(await readFile(join(config.RECORDER_WORK_DIR, 'active.json'), 'utf8'))).toEqual([]);
    } finally {
      publisher.close();
    }
  });
});
