import { createSocket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '@podlive/sfu';
import { loadConfig } from '@podlive/sfu/config';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { buildSdp } from '../src/capture/sdp';
import { freeUdpPortPairs } from '../src/capture/ports';
import { warmFfmpeg } from '../src/ffmpeg';
import { Rendition, type InitSegment, type MediaSegment, type RenditionEvents } from '../src/capture/Rendition';
import { TestPublisher } from './helpers/publisher';
import { RecorderPeer } from './helpers/recorder-peer';
import { KEYS } from './helpers/control-plane';
import { boxesOf, cpuSeconds, decodeErrors, ffprobe } from './helpers/media-files';
import { frameNumbersIn } from './helpers/h264';

/**
 * The capture core with real parts: a media node (one worker), a host publishing H.264 (key
 * frames only when asked, like Chromium) and Opus (libopus through FFmpeg), the recorder consuming
 * both over PlainTransports through the node's recorder API, and FFmpeg writing 2 s fMP4 segments.
 */

const SEGMENT_SECONDS = 2;
const FPS = 30;

async function until<T>(what: string, check: () => T | undefined | false, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every event of a rendition with its wall-clock time, and checks done on segments as they arrive. */
function record(rendition: Rendition) {
  const log = {
    events: [] as { at: number; name: keyof RenditionEvents; data: unknown }[],
    inits: [] as InitSegment[],
    segments: [] as MediaSegment[],
    /** Top-level boxes of each file when its event came (an incomplete file throws). */
    boxes: new Map<string, string[] | Error>(),
    /** Bytes of each file when its event came. */
    bytes: new Map<string, Buffer>(),
    pending: [] as Promise<void>[],
    /** Waits for the checks of every file announced so far. */
    settled: () => Promise.all(log.pending),
  };
  const capture = async (path: string) => {
    const data = await readFile(path);
    log.bytes.set(path, data);
    log.boxes.set(path, await boxesOf(path).catch((err: Error) => err));
  };
  for (const name of ['listening', 'started', 'init', 'segment', 'discontinuity', 'close'] as const) {
    rendition.on(name, (data: unknown) => {
      log.events.push({ at: Date.now(), name, data });
      if (name === 'init') {
        log.inits.push(data as InitSegment);
        log.pending.push(capture((data as InitSegment).path));
      }
      if (name === 'segment') {
        log.segments.push(data as MediaSegment);
        log.pending.push(capture((data as MediaSegment).path));
      }
    });
  }
  return log;
}

/** init + segments of one run, concatenated as a player would read them. */
async function joinRun(dir: string, init: InitSegment, segments: MediaSegment[], name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([await readFile(init.path), ...(await Promise.all(segments.map((s) => readFile(s.path))))]));
  return path;
}

describe('capture: Rendition', () => {
  let node: MediaNode;
  let publisher: TestPublisher | undefined;
  let peer: RecorderPeer | undefined;
  let rendition: Rendition | undefined;
  let dir: string;

  beforeAll(async () => {
    // As the Recorder does at start-up: fluent-ffmpeg's first command in a process lists FFmpeg's
    // formats and encoders first (two FFmpeg runs, seconds on a cold, busy machine: 3.7 s in one CI run).
    await warmFfmpeg('ffmpeg');
    node = await MediaNode.start(loadConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'rec-t', RTC_PORT_BASE: String(await freeRtcPortBase(1)), MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem }));
  });
  afterEach(async () => {
    rendition?.close();
    peer?.close();
    publisher?.close();
    rendition = peer = publisher = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => node.close());

  /** Publisher, recorder consumers (paused) and the SDP, as the recorder service will set them up. */
  async function live(session: string, { audio: withAudio = true } = {}) {
    dir = await mkdtemp(join(tmpdir(), 'podlive-capture-'));
    publisher = await TestPublisher.start({ node, session, fps: FPS, videoKbps: 2000, audio: withAudio });
    peer = await RecorderPeer.connect(node, session);
    const [videoPort, audioPort] = await freeUdpPortPairs(2);
    const video = await peer.consume(publisher.videoProducer.id, videoPort!);
    const audio = withAudio ? await peer.consume(publisher.audioProducer!.id, audioPort!) : undefined;
    const sdp = buildSdp([
      { kind: 'video', port: videoPort!, rtpParameters: video.rtpParameters },
      ...(audio ? [{ kind: 'audio' as const, port: audioPort!, rtpParameters: audio.rtpParameters }] : []),
    ]);
    const p = peer;
    return {
      sdp,
      requestKeyFrame: () => p.requestKeyFrame(video.id),
      resume: () => Promise.all([video, audio].flatMap((c) => (c ? [p.resume(c.id)] : []))),
    };
  }

  it('copies H.264 and transcodes Opus into 2 s fMP4 segments, each handed over complete, and flushes the last on stop()', async () => {
    const setup = await live('capture-basic');
    const spawnAt = Date.now();
    rendition = await Rendition.start({ id: 'r0', sdp: setup.sdp, workDir: join(dir, 'r0'), segmentSeconds: SEGMENT_SECONDS, requestKeyFrame: setup.requestKeyFrame });
    const log = record(rendition);
    const listeningMs = Date.now() - spawnAt;
    await setup.resume();
    const started = await until('FFmpeg writing', () => log.events.find((e) => e.name === 'started'), 5000);
    const pid = rendition.run!.pid!;
    const cpu0 = await cpuSeconds(pid);
    await until('3 segments and 7 s', () => log.segments.length >= 3 && Date.now() - started.at >= 7000, 15_000);
    const cpu = (await cpuSeconds(pid)) - cpu0;
    const cpuWindow = (Date.now() - started.at) / 1000;
    expect(log.segments.length, 'segments appear while recording').toBeGreaterThanOrEqual(3);
    const stopAt = Date.now();
    await rendition.stop();
    await log.settled();
    expect(rendition.closed).toBe(true);

    // Every file was complete when its event came; the last segment is the flushed partial one.
    expect(log.inits).toHaveLength(1);
    expect(log.boxes.get(log.inits[0]!.path)).toEqual(['ftyp', 'moov']);
    for (const s of log.segments) {
      const boxes = log.boxes.get(s.path);
      expect(boxes, `${s.path} complete when announced`).not.toBeInstanceOf(Error);
      expect(boxes).toContain('moof');
      expect(boxes).toContain('mdat');
      expect(s.bytes).toBe(log.bytes.get(s.path)!.length);
    }
    expect(log.segments.map((s) => s.index)).toEqual(log.segments.map((_, i) => i));
    expect(log.segments.map((s) => s.final)).toEqual(log.segments.map((_, i) => i === log.segments.length - 1));
    expect(log.segments.some((s) => s.discontinuity)).toBe(false);
    // Cut where asked: FFmpeg cuts segment k at the first key frame at or after k × 2 s, and the key
    // frame came when asked, so each cut lands just after its boundary (the key frame's way back).
    let end = 0;
    for (const [i, s] of log.segments.slice(0, -1).entries()) {
      end += s.durationSec;
      expect(end, `end of segment ${i}`).toBeGreaterThanOrEqual((i + 1) * SEGMENT_SECONDS - 0.01);
      expect(end, `end of segment ${i}`).toBeLessThanOrEqual((i + 1) * SEGMENT_SECONDS + 0.6);
    }

    // Each segment starts with a key frame the host sent when asked, and no frame is missing.
    const frames = log.segments.map((s) => frameNumbersIn(log.bytes.get(s.path)!));
    for (const f of frames) expect(publisher!.keyFrames.has(f[0]!), `segment starts at key frame ${f[0]}`).toBe(true);
    const all = frames.flat();
    expect(all).toEqual(all.map((_, i) => all[0]! + i));

    // The recording as a player reads it: H.264 at the source size, AAC, the duration recorded.
    const joined = await joinRun(dir, log.inits[0]!, log.segments, 'all.mp4');
    const probe = await ffprobe(joined);
    expect(probe.streams.find((s) => s.codec_type === 'video')).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(probe.streams.find((s) => s.codec_type === 'audio')).toMatchObject({ codec_name: 'aac', sample_rate: '48000', channels: 2 });
    const recordedSec = (stopAt - publisher!.keyFrames.get(all[0]!)!) / 1000;
    const total = log.segments.reduce((sum, s) => sum + s.durationSec, 0);
    expect(Math.abs(total - recordedSec), `${total} s of segments for ${recordedSec} s recorded`).toBeLessThanOrEqual(0.5);
    expect(Math.abs(Number(probe.format.duration) - recordedSec)).toBeLessThanOrEqual(0.5);
    const video = probe.packets.filter((p) => p.codec_type === 'video');
    expect(video.length).toBe(all.length);
    const gaps = video.slice(1).map((p, i) => p.pts - video[i]!.pts);
    // 90 kHz: one frame is 3000 ticks, exactly, as the RTP timestamps say. Except where FFmpeg's RTP
    // demuxer re-anchors the video on an RTCP sender report (A/V sync, about once a second): the
    // node dates a report from when it forwarded the last packet, so the video moves by how late
    // that was, a few ms, up to 25 ms seen on a loaded machine (the first report most).
    const frame = 90000 / FPS;
    expect(gaps.filter((g) => g === frame).length / gaps.length, 'gaps of exactly one frame').toBeGreaterThanOrEqual(0.9);
    expect(Math.max(...gaps), 'largest gap between video packets').toBeLessThan(2 * frame);
    expect(Math.min(...gaps)).toBeGreaterThan(0);
    expect(video.every((p) => p.pts === p.dts)).toBe(true);
    const errors = await decodeErrors(joined);
    const lost = (await publisher!.videoProducer.getStats()).reduce((n, st) => n + (st.packetsLost ?? 0), 0);
    expect(errors, `decoding: ${errors.join(' | ')} (packets lost on the way into the node: ${lost})`).toEqual([]);

    // The live playlist: every segment, one init, ended.
    const playlist = rendition.playlist();
    expect(playlist).toContain('#EXT-X-MAP:URI="init-0.mp4"');
    expect(playlist.match(/^seg-\d{5}\.m4s$/gm)).toHaveLength(log.segments.length);
    expect(playlist).toMatch(/#EXT-X-ENDLIST\n$/);

    const startupMs = (started.data as { afterMs: number }).afterMs;
    console.log(`[capture] listening after ${listeningMs} ms, writing after ${startupMs} ms; ${log.segments.length} segments (${log.segments.map((s) => s.durationSec.toFixed(2)).join(', ')} s); FFmpeg CPU ${((cpu / cpuWindow) * 100).toFixed(1)} % of a core over ${cpuWindow.toFixed(1)} s; ${rendition.keyFrameRequests} key frame requests`);
    expect(startupMs, 'FFmpeg writes within ~1 s of its start (generous for a loaded machine)').toBeLessThan(2500);
    expect(cpu / cpuWindow, 'copying, not encoding, video').toBeLessThan(0.5);
  }, 30_000);

  it('restarts a killed FFmpeg within 2 s and salvages its segment in progress from the journal: one gap, under 2 s, nothing before it lost', async () => {
    const setup = await live('capture-kill');
    const workDir = join(dir, 'r0');
    rendition = await Rendition.start({ id: 'r0', sdp: setup.sdp, workDir, segmentSeconds: SEGMENT_SECONDS, requestKeyFrame: setup.requestKeyFrame });
    const log = record(rendition);
    await setup.resume();
    await until('2 segments', () => log.segments.length >= 2, 10_000);
    // Mid-segment: most of a segment after the last cut, all of it still in FFmpeg's memory.
    await new Promise((resolve) => setTimeout(resolve, SEGMENT_SECONDS * 1000 * 0.75));
    const before = [...log.segments];
    const first = rendition.run!;
    const killAt = Date.now();
    const frameAtKill = publisher!.framesSent;
    process.kill(first.pid!, 'SIGKILL');

    const discontinuity = await until('discontinuity', () => log.events.find((e) => e.name === 'discontinuity'), 2000);
    const restarted = await until('the new FFmpeg writing', () => log.events.find((e) => e.name === 'started' && (e.data as { run: number }).run === 2), 4000);
    await until('2 segments after the restart', () => log.segments.filter((s) => s.run === 2).length >= 2, 10_000);
    await rendition.stop();
    await log.settled();

    expect(discontinuity.data).toMatchObject({ previousRun: 0, run: 2, salvage: { run: 1, index: before.length }, restartInMs: 0 });
    expect(rendition.run).toBeUndefined();
    const restartMs = restarted.at - killAt;
    const relisten = log.events.find((e) => e.name === 'listening' && (e.data as { run: number }).run === 2)!;
    expect(restartMs, 'new FFmpeg writing within 2 s of the kill').toBeLessThanOrEqual(2000);

    // Numbering: one sequence over the dead run, the salvaged segment (a run of its own: the
    // journal's init) and the new run; each new init is a discontinuity.
    const runOf = (index: number) => (index < before.length ? 0 : index === before.length ? 1 : 2);
    expect(log.segments.map((s) => s.index)).toEqual(log.segments.map((_, i) => i));
    expect(log.segments.map((s) => s.run)).toEqual(log.segments.map((s) => runOf(s.index)));
    expect(log.segments.filter((s) => s.discontinuity).map((s) => s.index)).toEqual([before.length, before.length + 1]);
    expect(log.inits.map((i) => i.run)).toEqual([0, 1, 2]);
    expect(existsSync(join(workDir, 'journal-0.mp4')), 'the dead run\'s journal is gone once salvaged').toBe(false);

    // Segments finished before the kill are untouched and whole.
    for (const s of before) {
      expect(await readFile(s.path)).toEqual(log.bytes.get(s.path));
      expect(await boxesOf(s.path)).toContain('mdat');
    }
    const framesOf = (run: number) => log.segments.filter((s) => s.run === run).flatMap((s) => frameNumbersIn(log.bytes.get(s.path)!));
    const [run0, salvaged, run2] = [framesOf(0), framesOf(1), framesOf(2)];
    // Nothing before the gap is lost: the salvaged frames follow the dead run's last chunk.
    const beforeGap = [...run0, ...salvaged];
    expect(beforeGap).toEqual(beforeGap.map((_, i) => run0[0]! + i));
    expect(run2).toEqual(run2.map((_, i) => run2[0]! + i));
    const salvagedSec = salvaged.length / FPS;
    const lostAtKill = (frameAtKill - salvaged.at(-1)! - 1) / FPS;
    const gapSec = (run2[0]! - salvaged.at(-1)! - 1) / FPS;
    expect(salvagedSec, 'the segment in progress, salvaged').toBeGreaterThanOrEqual(SEGMENT_SECONDS * 0.75 - 0.75);
    expect(lostAtKill, 'lost: what the journal had not flushed (every 500 ms)').toBeLessThanOrEqual(0.75);
    expect(gapSec, 'the one gap: from the last journal flush to the new FFmpeg\'s first frame').toBeLessThanOrEqual(2);

    for (const [run, frames] of [[0, run0], [1, salvaged], [2, run2]] as const) {
      const joined = await joinRun(dir, log.inits[run]!, log.segments.filter((s) => s.run === run), `run-${run}.mp4`);
      const probe = await ffprobe(joined);
      expect(probe.streams.map((s) => s.codec_name).sort()).toEqual(['aac', 'h264']);
      // No two frames share a timestamp, the first of a run included (it comes without a PTS).
      const video = probe.packets.filter((p) => p.codec_type === 'video');
      expect(video.length).toBe(frames.length);
      expect(video.every((p) => p.pts === p.dts)).toBe(true);
      const steps = video.slice(1).map((p, i) => p.dts - video[i]!.dts);
      expect(Math.min(...steps), `run ${run}: smallest DTS step`).toBeGreaterThan(0);
      const errors = await decodeErrors(joined);
      expect(errors, `decoding run ${run}: ${errors.join(' | ')}`).toEqual([]);
    }
    const playlist = rendition.playlist();
    expect(playlist.match(/#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="init-[12].mp4"/g)).toHaveLength(2);
    console.log(`[capture] killed FFmpeg: exit seen after ${discontinuity.at - killAt} ms, new FFmpeg listening after ${relisten.at - killAt} ms, writing after ${restartMs} ms; salvaged ${salvagedSec.toFixed(2)} s from the journal, lost ${lostAtKill.toFixed(2)} s at the kill; one gap of ${gapSec.toFixed(2)} s`);
  }, 30_000);

  it('loses no frame while FFmpeg stalls for 1.5 s: its 2 MiB UDP buffer holds the packets', async () => {
    const rmemMax = Number(await readFile('/proc/sys/net/core/rmem_max', 'utf8'));
    expect(rmemMax, 'net.core.rmem_max caps the UDP buffer FFmpeg asks for (-buffer_size): raise it on recorder hosts').toBeGreaterThanOrEqual(1 << 20);
    const setup = await live('capture-stall');
    rendition = await Rendition.start({ id: 'r0', sdp: setup.sdp, workDir: join(dir, 'r0'), segmentSeconds: SEGMENT_SECONDS, requestKeyFrame: setup.requestKeyFrame });
    const log = record(rendition);
    await setup.resume();
    await until('a segment', () => log.segments.length >= 1, 10_000);
    // What a busy machine does to FFmpeg, longer: 1.5 s at 2 Mbit/s is ~400 kB of datagrams waiting.
    const { pid } = rendition.run!;
    process.kill(pid!, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    process.kill(pid!, 'SIGCONT');
    await until('3 segments', () => log.segments.length >= 3, 10_000);
    await rendition.stop();
    await log.settled();
    const frames = log.segments.flatMap((s) => frameNumbersIn(log.bytes.get(s.path)!));
    expect(frames).toEqual(frames.map((_, i) => frames[0]! + i));
    expect(log.segments.every((s) => s.run === 0)).toBe(true);
  }, 30_000);

  it('stop() finalizes at once even when the media has already ended (host gone): nothing sent is lost', async () => {
    const setup = await live('capture-ended');
    rendition = await Rendition.start({ id: 'r0', sdp: setup.sdp, workDir: join(dir, 'r0'), segmentSeconds: SEGMENT_SECONDS, requestKeyFrame: setup.requestKeyFrame });
    const log = record(rendition);
    await setup.resume();
    await until('a segment', () => log.segments.length >= 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 700));
    publisher!.stopSending();
    const lastSent = publisher!.framesSent - 1;
    // FFmpeg now blocks in a read that nothing will satisfy; a SIGINT alone would wait there.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopAt = Date.now();
    await rendition.stop();
    await log.settled();
    expect(Date.now() - stopAt, 'stop() took').toBeLessThan(1000);
    const last = log.segments.at(-1)!;
    expect(last.final).toBe(true);
    expect(last.durationSec).toBeGreaterThan(0.5);
    const frames = log.segments.flatMap((s) => frameNumbersIn(log.bytes.get(s.path)!));
    expect(frames).toEqual(frames.map((_, i) => frames[0]! + i));
    expect(frames.at(-1)).toBe(lastSent);
    const errors = await decodeErrors(await joinRun(dir, log.inits[0]!, log.segments, 'all.mp4'));
    expect(errors, `decoding: ${errors.join(' | ')}`).toEqual([]);
  }, 30_000);

  it('gives the first frame of a run, which FFmpeg receives without a timestamp, its own: one frame before the next', async () => {
    // Video only: nothing but the video starts FFmpeg's timeline, so the DTS FFmpeg invents for the
    // first frame is the second frame's (ffmpeg-args.ts, VIDEO_TIMESTAMPS). With audio the same
    // happens now and then, when FFmpeg has read no audio yet.
    const setup = await live('capture-first-frame', { audio: false });
    rendition = await Rendition.start({ id: 'r0', sdp: setup.sdp, workDir: join(dir, 'r0'), segmentSeconds: SEGMENT_SECONDS, requestKeyFrame: setup.requestKeyFrame });
    const log = record(rendition);
    await setup.resume();
    const started = await until('FFmpeg writing', () => log.events.find((e) => e.name === 'started'), 5000);
    await until('a second of media', () => Date.now() - started.at >= 1000, 5000);
    await rendition.stop();
    await log.settled();
    const frames = log.segments.flatMap((s) => frameNumbersIn(log.bytes.get(s.path)!));
    expect(publisher!.keyFrames.has(frames[0]!), 'the run starts at a key frame').toBe(true);
    const joined = await joinRun(dir, log.inits[0]!, log.segments, 'all.mp4');
    const probe = await ffprobe(joined);
    const video = probe.packets.filter((p) => p.codec_type === 'video');
    expect(video.length).toBe(frames.length);
    expect(video.every((p) => p.pts === p.dts)).toBe(true);
    const steps = video.slice(1).map((p, i) => p.dts - video[i]!.dts);
    expect(steps[0], 'the key frame lasts one frame').toBe(90000 / FPS);
    expect(Math.min(...steps)).toBeGreaterThan(0.5 * (90000 / FPS));
    const errors = await decodeErrors(joined);
    expect(errors, `decoding: ${errors.join(' | ')}`).toEqual([]);
  }, 30_000);

  it('start() rejects, and nothing restarts, when FFmpeg cannot run or cannot bind its ports', async () => {
    dir = await mkdtemp(join(tmpdir(), 'podlive-capture-'));
    const [port] = await freeUdpPortPairs(1);
    const sdp = buildSdp([{ kind: 'audio', port: port!, rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }] } }]);
    let asked = 0;
    const requestKeyFrame = async () => void asked++;
    await expect(Rendition.start({ id: 'r0', sdp, workDir: join(dir, 'a'), ffmpegPath: '/nonexistent/ffmpeg', requestKeyFrame })).rejects.toThrow(/FFmpeg not found or not executable/);
    // Someone else holds the RTCP port: FFmpeg fails to bind and exits.
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(port! + 1, '127.0.0.1', resolve));
    try {
      await expect(Rendition.start({ id: 'r0', sdp, workDir: join(dir, 'b'), requestKeyFrame })).rejects.toThrow(/FFmpeg exited before listening/);
    } finally {
      squatter.close();
    }
    expect(asked).toBe(0);
  });
});
