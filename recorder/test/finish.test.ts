import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '@podlive/storage';
import { recordingKeys, type RecordingManifest, type RenditionId } from '@podlive/shared/recording';
import { finishRecording } from '../src/finish/finish-job';
import { controlPlane, reportToken } from './helpers/control-plane';

const exec = promisify(execFile);

/**
 * One rendition's run as the recorder stores it (an init segment and fMP4 chunks, H.264 copied
 * with its parameter sets in band), from FFmpeg's test pattern at each size in turn: what a
 * simulcast layer Chromium starts small and then grows looks like.
 */
async function capturedRun(dir: string, sizes: string[]): Promise<{ init: Buffer; chunks: Buffer[] }> {
  const parts: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const part = join(dir, `part-${i}.h264`);
    await exec('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=20`, '-f', 'lavfi', '-i', 'sine=frequency=440',
      '-t', '3', '-map', '0:v', '-c:v', 'libx264', '-g', '20', '-x264-params', 'repeat-headers=1', '-f', 'h264', part]);
    parts.push(part);
  }
  const joined = join(dir, 'joined.h264');
  await exec('sh', ['-c', `cat ${parts.map((p) => `'${p}'`).join(' ')} > '${joined}'`]);
  await exec('ffmpeg', ['-v', 'error', '-r', '20', '-i', joined, '-f', 'lavfi', '-i', 'sine=frequency=440', '-shortest', '-c:v', 'copy', '-c:a', 'aac',
    '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '1', '-hls_fmp4_init_filename', 'init.mp4', join(dir, 'out.m3u8')]);
  const chunks = (await readdir(dir)).filter((f) => f.endsWith('.m4s')).sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
  return { init: await readFile(join(dir, 'init.mp4')), chunks: await Promise.all(chunks.map((f) => readFile(join(dir, f)))) };
}

describe('the finishing job names renditions', () => {
  let plane: Awaited<ReturnType<typeof controlPlane>>;
  let storage: LocalStorage;
  let dir: string;

  beforeAll(async () => {
    plane = await controlPlane();
    dir = await mkdtemp(join(tmpdir(), 'podlive-finish-test-'));
    storage = new LocalStorage({ dir: join(dir, 'storage'), publicUrl: 'http://127.0.0.1:1', urlSecret: 'finish-test' });
  });

  afterAll(async () => {
    plane?.server.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Stores each layer's run and a finished manifest, then runs the job. */
  async function finish(layers: Partial<Record<RenditionId, string[]>>) {
    const sessionId = randomUUID();
    const keys = recordingKeys(sessionId);
    const manifest: RecordingManifest = { sessionId, hostId: randomUUID(), startedAt: Date.now() - 10_000, endedAt: Date.now(), renditions: {} };
    let index = 0;
    for (const [r, sizes] of Object.entries(layers) as [RenditionId, string[]][]) {
      const work = await mkdtemp(join(dir, `${r}-`));
      const run = await capturedRun(work, sizes);
      await storage.put(keys.init(r, 0), run.init, 'video/mp4');
      const segments = [];
      for (const chunk of run.chunks) {
        await storage.put(keys.segment(r, index), chunk, 'video/iso.segment');
        segments.push({ index: index++, run: 0, durationSec: 1, bytes: chunk.length, at: Date.now() });
      }
      manifest.renditions[r] = { width: null, height: null, segments };
    }
    await storage.put(keys.manifest, Buffer.from(JSON.stringify(manifest)), 'application/json');
    return finishRecording(sessionId, { storage, reportToken: await reportToken(sessionId), serverUrl: plane.url, ffmpegPath: 'ffmpeg' });
  }

  it('by the largest picture a layer sent: a top layer that began at the lower size is still the 720p one', { timeout: 60_000 }, async () => {
    const body = await finish({ r0: ['852x480', '852x480'], r1: ['852x480', '1280x720'] });
    expect(body.renditions.map((x) => `${x.name} ${x.width}x${x.height} ${x.playlistKey.split('/').at(-2)}`)).toEqual(['720p 1280x720 r1', '480p 852x480 r0']);
    expect(new Set(body.renditions.map((x) => x.key)).size).toBe(2);
    for (const r of body.renditions) expect((await storage.get(r.key))?.body, `${r.name}'s MP4`).toBeDefined();
  });

  it('never two under one name: a lower layer the size of a higher one is left out, the higher one kept', { timeout: 60_000 }, async () => {
    const body = await finish({ r0: ['852x480', '852x480'], r1: ['852x480', '852x480'] });
    expect(body.renditions.map((x) => `${x.name} ${x.playlistKey.split('/').at(-2)}`)).toEqual(['480p r1']);
  });
});
