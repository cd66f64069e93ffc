import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
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
import { FLEET_ROUTER_CODECS, sameRouterCodecs } from '../src/live/armed';
import type { RouterCodec } from '../src/capture/sdp';
import { controlPlane, KEYS, reportToken, startBody, until } from './helpers/control-plane';
import { frameNumbersIn } from './helpers/h264';
import { scrape } from './helpers/metrics';
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

  /** Publishes a camera (one layer) and mic into `sid`; resolves once r0 has a chunk, with the ms from the camera's first frame to the first recorded one and r0's FFmpeg. */
  async function recordCamera(sid: string): Promise<{ lateMs: number; pid: number; close: () => Promise<void> }> {
    const publisher = await TestPublisher.start({ node, session: sid, width: 640, height: 352, userId: HOST });
    try {
      const live = (await recorder.recording(sid))!;
      await until(() => ((live.manifest.renditions.r0?.segments.length ?? 0) >= 1 ? true : undefined), 'the first chunk', 30_000);
      const [pid] = await until(async () => {
        const pids = await ffmpegsOf(sid);
        return pids.length === 1 ? pids : undefined;
      }, 'the FFmpegs armed for layers the camera lacks to exit', 10_000);
      const frames = frameNumbersIn(await buffer((await recorder.storage.get(recordingKeys(sid).segment('r0', 0)))!.body));
      expect(publisher.keyFrames.has(frames[0]!), 'the recording starts at a key frame').toBe(true);
      const lateMs = publisher.keyFrames.get(frames[0]!)! - publisher.keyFrames.get(0)!;
      return {
        lateMs, pid: pid!, close: async () => {
          await recorder.stop(sid, await reportToken(sid));
          publisher.close();
        },
      };
    } catch (err) {
      publisher.close();
      throw err;
    }
  }

  it('told before the host connects, the recorder arms at once on the fleet’s codecs, waits at the node, keeps them at the join (they are the router’s) and records from the camera’s first frames', { timeout: 90_000 }, async () => {
    const sid = randomUUID();
    await recorder.start(await startBody(sid, HOST, { id: 'armed-node', url: node.url }));
    const before = await armed(sid, 3);
    expect(node.rooms.has(sid)).toBe(false);
    expect(node.waitingRecorders).toBe(1);
    const room = await node.room(sid);
    await until(() => ([...room.peers.values()].some((p) => p.claims.role === 'recorder') ? true : undefined), 'the recorder in the room', 10_000);
    expect(sameRouterCodecs(FLEET_ROUTER_CODECS, room.router.rtpCapabilities.codecs as RouterCodec[]), 'the fleet’s codecs are this router’s').toBe(true);
    expect((await armed(sid, 3)).sort()).toEqual([...before].sort());
    const { lateMs, pid, close } = await recordCamera(sid);
    await close();
    console.info(`[armed] the camera's first frame → the first recorded frame: ${lateMs} ms`);
    // One layer: r0 is fed to the FFmpeg armed for it, the two others are gone with their directories.
    expect(before).toContain(pid);
    await until(async () => ((await readdir(join(config.RECORDER_WORK_DIR, sid), { recursive: true })).some((f) => f.endsWith('.sdp')) ? undefined : true), 'no work directory left', 5000);
    // Without arming, FFmpeg's start (0.3–2 s here) comes on top; the bound leaves room for a loaded machine.
    expect(lateMs).toBeLessThanOrEqual(1000);
    expect(await ffmpegsOf(sid)).toEqual([]);
    const result = await until(() => plane.finished.get(sid), 'the finished recording', 60_000);
    expect(result.status).toBe('ready');
  });

  it('armed on codecs the router turns out not to have, the recorder arms again on the router’s own at the join', { timeout: 90_000 }, async () => {
    await recorder.close();
    const file = join(config.RECORDER_WORK_DIR, 'router-codecs.json');
    const codecs = JSON.parse(await readFile(file, 'utf8')) as { mimeType: string; preferredPayloadType: number }[];
    await writeFile(file, JSON.stringify(codecs.map((c) => (c.mimeType === 'video/H264' ? { ...c, preferredPayloadType: 125 } : c))));
    recorder = await Recorder.create(config);
    const sid = randomUUID();
    await recorder.start(await startBody(sid, HOST, { id: 'armed-node', url: node.url }));
    const wrong = await armed(sid, 3);
    await node.room(sid);
    const right = await until(async () => {
      const pids = await armed(sid, 3);
      return pids.some((p) => wrong.includes(p)) ? undefined : pids;
    }, 'FFmpegs armed again', 20_000);
    const { pid, close } = await recordCamera(sid);
    await close();
    expect(right).toContain(pid);
    // The router's own codecs are what the recorder keeps.
    await until(async () => ((await readFile(file, 'utf8')) === JSON.stringify(codecs) ? true : undefined), 'the router’s codecs on disk', 5000);
  });

  it('a live whose camera never comes: an armed FFmpeg that dies is restarted; stopping the live kills the armed FFmpegs and removes their directories', { timeout: 60_000 }, async () => {
    const sid = randomUUID();
    await node.room(sid);
    await recorder.start(await startBody(sid, HOST, { id: 'armed-node', url: node.url }));
    await armed(sid, 3);
    // A live being recorded from the start command: its armed renditions open, none capturing yet.
    const during = await until(async () => {
      const m = await scrape(recorder.metricsAddress);
      return m.value('podlive_recorder_renditions_open') === 3 ? m : undefined;
    }, 'the armed renditions counted', 10_000);
    expect([during.value('podlive_recorder_lives'), during.value('podlive_recorder_renditions'), during.value('podlive_recorder_consumers')]).toEqual([1, 0, 0]);
    // An FFmpeg that dies is started again, and counted.
    const restartsBefore = during.sum('podlive_recorder_ffmpeg_restarts_total')!;
    process.kill((await ffmpegsOf(sid))[0]!, 'SIGKILL');
    await until(async () => ((await scrape(recorder.metricsAddress)).sum('podlive_recorder_ffmpeg_restarts_total')! > restartsBefore ? true : undefined), 'the restart counted', 10_000);
    await armed(sid, 3);
    await recorder.stop(sid, await reportToken(sid));
    expect(await ffmpegsOf(sid)).toEqual([]);
    const after = await scrape(recorder.metricsAddress);
    expect([after.value('podlive_recorder_lives'), after.value('podlive_recorder_renditions_open')]).toEqual([0, 0]);
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
