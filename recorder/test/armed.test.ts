import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '@podlive/sfu';
import { loadConfig as sfuConfig } from '@podlive/sfu/config';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { recordingKeys } from '@podlive/shared/recording';
import { findOrphanFfmpegs } from '../src/capture/orphans';
import { boundUdpPorts } from '../src/capture/ports';
import { loadConfig, type RecorderConfig } from '../src/config';
import { Recorder } from '../src/Recorder';
import { controlPlane, KEYS, reportToken, startBody, until } from './helpers/control-plane';
import { frameNumbersIn } from './helpers/h264';
import { TestPublisher } from './helpers/publisher';

/**
 * The recorder told before the host connects (as the control plane tells it: when the live
 * starts): it waits at the node for the room, arms one FFmpeg per possible layer on the router's
 * codecs, and the host's camera, when it comes, is fed into an FFmpeg already listening. Real
 * node, real FFmpeg; the host is TestPublisher (one layer, key frames only when asked, each
 * frame numbered).
 */

const CHUNK_SECONDS = 2;
const HOST = randomUUID();

describe('renditions armed before the host’s camera', () => {
  let node: MediaNode;
  let recorder: Recorder;
  let plane: Awaited<ReturnType<typeof controlPlane>>;
  let config: RecorderConfig;

  beforeAll(async () => {
    plane = await controlPlane();
    node = await MediaNode.start(sfuConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'armed-node', MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, RTC_PORT_BASE: String(await freeRtcPortBase(1)) }));
    const dataDir = await mkdtemp(join(tmpdir(), 'podlive-recorder-armed-'));
    config = loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, SERVER_URL: plane.url, RECORDER_CHUNK_SECONDS: String(CHUNK_SECONDS) });
    recorder = await Recorder.create(config);
  }, 60_000);

  afterAll(async () => {
    await recorder?.close();
    await node?.close();
    plane?.server.close();
  });

  /** The FFmpegs of a live's renditions (each runs in its rendition's work directory). */
  const ffmpegsOf = (sid: string) => findOrphanFfmpegs(join(config.RECORDER_WORK_DIR, sid));

  /** Waits for `count` FFmpegs of the live, each with its RTP and RTCP ports for video and audio bound; their pids. */
  const armed = (sid: string, count: number) => until(async () => {
    const pids = await ffmpegsOf(sid);
    if (pids.length !== count) return undefined;
    const bound = await Promise.all(pids.map(async (pid) => (await boundUdpPorts(pid))?.size ?? 0));
    return bound.every((n) => n >= 4) ? pids : undefined;
  }, `${count} FFmpegs listening`, 20_000);

  it('the recorder waits at the node for the room, FFmpeg listens before the camera comes, and the recording starts at the camera’s first frames', { timeout: 90_000 }, async () => {
    const sid = randomUUID();
    await recorder.start(await startBody(sid, HOST, { id: 'armed-node', url: node.url }));
    // The recorder is told first; the host opens the room a moment later.
    expect(await ffmpegsOf(sid)).toEqual([]);
    await node.room(sid);
    const before = await armed(sid, 3);
    const publisher = await TestPublisher.start({ node, session: sid, width: 640, height: 352, userId: HOST });
    try {
      const live = (await recorder.recording(sid))!;
      await until(() => ((live.manifest.renditions.r0?.segments.length ?? 0) >= 1 ? true : undefined), 'the first chunk', 30_000);
      // One layer: r0 is fed to the FFmpeg armed for it, the two others are gone with their directories.
      const after = await until(async () => {
        const pids = await ffmpegsOf(sid);
        return pids.length === 1 ? pids : undefined;
      }, 'the FFmpegs armed for layers the camera lacks to exit', 10_000);
      expect(before).toContain(after[0]);
      const sdps = (await readdir(join(config.RECORDER_WORK_DIR, sid), { recursive: true })).filter((f) => f.endsWith('.sdp'));
      expect(sdps.map((f) => f.split('/')[0])).toEqual(['r0']);
      expect(Object.keys(live.manifest.renditions)).toEqual(['r0']);

      const chunk = await recorder.storage.get(recordingKeys(sid).segment('r0', 0));
      const frames = frameNumbersIn(await buffer(chunk!.body));
      const firstRecorded = frames[0]!;
      expect(publisher.keyFrames.has(firstRecorded), 'the recording starts at a key frame').toBe(true);
      const lateMs = publisher.keyFrames.get(firstRecorded)! - publisher.keyFrames.get(0)!;
      console.info(`[armed] the camera's first frame → the first recorded frame (frame ${firstRecorded}): ${lateMs} ms`);
      // Without arming, FFmpeg's start (0.3–2 s here) comes on top; the bound leaves room for a loaded machine.
      expect(lateMs).toBeLessThanOrEqual(1000);
    } finally {
      await recorder.stop(sid, await reportToken(sid));
      publisher.close();
    }
    expect(await ffmpegsOf(sid)).toEqual([]);
    const result = await until(() => plane.finished.get(sid), 'the finished recording', 60_000);
    expect(result.status).toBe('ready');
  });

  it('a live whose camera never comes: stopping it kills the armed FFmpegs and removes their directories', { timeout: 60_000 }, async () => {
    const sid = randomUUID();
    await node.room(sid);
    await recorder.start(await startBody(sid, HOST, { id: 'armed-node', url: node.url }));
    await armed(sid, 3);
    await recorder.stop(sid, await reportToken(sid));
    expect(await ffmpegsOf(sid)).toEqual([]);
    const dir = join(config.RECORDER_WORK_DIR, sid);
    expect(existsSync(dir) ? (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.sdp')) : []).toEqual([]);
  });

  it('a recorder going down with armed FFmpegs takes them down', { timeout: 60_000 }, async () => {
    const sid = randomUUID();
    await node.room(sid);
    await recorder.start(await startBody(sid, HOST, { id: 'armed-node', url: node.url }));
    await armed(sid, 3);
    await recorder.close();
    await until(async () => ((await ffmpegsOf(sid)).length === 0 ? true : undefined), 'the armed FFmpegs to exit', 5000);
    recorder = await Recorder.create(config);
  });
});
