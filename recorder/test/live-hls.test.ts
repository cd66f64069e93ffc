import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '@podlive/sfu';
import { loadConfig } from '@podlive/sfu/config';
import { LocalStorage } from '@podlive/storage';
import { recordingKeys } from '@podlive/shared/recording';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { buildSdp } from '../src/capture/sdp';
import { freeUdpPortPairs } from '../src/capture/ports';
import { warmFfmpeg } from '../src/ffmpeg';
import { Rendition } from '../src/capture/Rendition';
import { LiveHls } from '../src/live/live-hls';
import { TestPublisher } from './helpers/publisher';
import { RecorderPeer } from './helpers/recorder-peer';
import { KEYS } from './helpers/control-plane';
import { ffprobe } from './helpers/media-files';
import { frameNumbersIn } from './helpers/h264';

/**
 * The live low-latency HLS with real parts: a node, a host sending H.264 key frames only when
 * asked (like Chromium), a Rendition writing 1 s live segments beside 4 s chunks, and LiveHls
 * putting them in a local storage as a sliding playlist.
 */

const SESSION = '00000000-0000-4000-8000-00000000a11a';
const keys = recordingKeys(SESSION);

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Listed {
  mediaSequence: number;
  discontinuitySequence: number;
  targetDuration: number;
  segments: { uri: string; durationSec: number; dateTime: string | undefined; map: string; discontinuity: boolean }[];
  ended: boolean;
}

function parse(text: string): Listed {
  const out: Listed = { mediaSequence: -1, discontinuitySequence: -1, targetDuration: -1, segments: [], ended: false };
  let map = '';
  let duration: number | undefined;
  let dateTime: string | undefined;
  let discontinuity = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-MEDIA-SEQUENCE:')) out.mediaSequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-DISCONTINUITY-SEQUENCE:')) out.discontinuitySequence = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) out.targetDuration = Number(line.split(':')[1]);
    else if (line.startsWith('#EXT-X-MAP:')) map = /URI="([^"]+)"/.exec(line)![1]!;
    else if (line === '#EXT-X-DISCONTINUITY') discontinuity = true;
    else if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) dateTime = line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length);
    else if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line === '#EXT-X-ENDLIST') out.ended = true;
    else if (line && !line.startsWith('#')) {
      out.segments.push({ uri: line, durationSec: duration!, dateTime, map, discontinuity });
      dateTime = undefined;
      discontinuity = false;
    }
  }
  return out;
}

describe('live low-latency HLS (Rendition + LiveHls)', () => {
  let node: MediaNode;
  let publisher: TestPublisher | undefined;
  let peer: RecorderPeer | undefined;
  const renditions: Rendition[] = [];
  let dir: string;
  let storage: LocalStorage;

  beforeAll(async () => {
    await warmFfmpeg('ffmpeg');
    node = await MediaNode.start(loadConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'll-t', RTC_PORT_BASE: String(await freeRtcPortBase(1)), MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem }));
  });
  afterEach(async () => {
    for (const r of renditions.splice(0)) r.close();
    peer?.close();
    publisher?.close();
    peer = publisher = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => node.close());

  const text = async (key: string) => {
    const object = await storage.get(key);
    if (!object) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of object.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const playlist = async (track: 'r0' | 'audio') => {
    const body = await text(keys.llPlaylist(track));
    return body === undefined ? undefined : parse(body.toString('utf8'));
  };

  /** A rendition of the publisher's video and audio that writes the live HLS (window 3, 2 kept behind). */
  async function startRendition(session: string, n: number): Promise<Rendition> {
    peer ??= await RecorderPeer.connect(node, session);
    const [videoPort, audioPort] = await freeUdpPortPairs(2);
    const video = await peer.consume(publisher!.videoProducer.id, videoPort!);
    const audio = await peer.consume(publisher!.audioProducer!.id, audioPort!);
    const sdp = buildSdp([
      { kind: 'video', port: videoPort!, rtpParameters: video.rtpParameters },
      { kind: 'audio', port: audioPort!, rtpParameters: audio.rtpParameters },
    ]);
    const p = peer;
    const rendition = await Rendition.start({
      id: 'r0', sdp, workDir: join(dir, `r0-${n}`), segmentSeconds: 4, firstRun: n,
      requestKeyFrame: () => p.requestKeyFrame(video.id),
      liveHls: { segmentSeconds: 1, listSize: 3, audio: true },
    });
    renditions.push(rendition);
    return Object.assign(rendition, { resume: () => Promise.all([p.resume(video.id), p.resume(audio.id)]) });
  }

  it('publishes ~1 s segments that start with a key frame, a sliding playlist with its dates, the audio alone, immutable names across runs, and an end', async () => {
    dir = await mkdtemp(join(tmpdir(), 'podlive-ll-'));
    storage = new LocalStorage({ dir: join(dir, 'storage'), publicUrl: 'http://127.0.0.1:1', urlSecret: 'll-test' });
    publisher = await TestPublisher.start({ node, session: 'll-basic', fps: 30, videoKbps: 500, audio: true });
    const hls = new LiveHls({ storage, sessionId: SESSION, window: 3, keep: 2 });

    const first = await startRendition('ll-basic', 0);
    hls.attach(first, 'r0');
    await (first as Rendition & { resume: () => Promise<unknown> }).resume();

    // Segments keep coming: the window slides, older segments leave storage.
    const seen = new Map<string, Buffer>();
    const firstRun = await until('the window to slide past kept segments', async () => {
      const listed = await playlist('r0');
      if (!listed) return undefined;
      for (const s of listed.segments) {
        if (seen.has(s.uri)) continue;
        const body = await text(`${keys.root}/ll/r0/${s.uri}`);
        if (body) seen.set(s.uri, body);
      }
      return listed.mediaSequence >= 4 ? listed : undefined;
    }, 30_000);
    expect(firstRun.segments).toHaveLength(3);
    expect(firstRun.targetDuration).toBeGreaterThanOrEqual(1);
    expect(firstRun.targetDuration).toBeLessThanOrEqual(2);
    for (const s of firstRun.segments) {
      expect(s.durationSec, `${s.uri} lasts about a second`).toBeGreaterThan(0.5);
      expect(s.durationSec).toBeLessThan(1.8);
      expect(Number.isNaN(Date.parse(s.dateTime!.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))), `${s.uri} has a date`).toBe(false);
    }
    // Each segment (after the first, which starts at the run's first key frame) starts with a key frame the host sent when asked.
    for (const [uri, body] of [...seen].slice(1)) {
      const frames = frameNumbersIn(body);
      expect(publisher.keyFrames.has(frames[0]!), `${uri} starts at a key frame`).toBe(true);
    }
    // Gone from storage: what left the playlist more than `keep` segments ago.
    const firstUri = [...seen.keys()][0]!;
    expect(await text(`${keys.root}/ll/r0/${firstUri}`), 'the oldest segment left storage').toBeUndefined();

    // The master names the rendition; the audio track decodes to audio alone.
    const master = (await text(keys.llMaster))!.toString('utf8');
    expect(master).toMatch(/#EXT-X-STREAM-INF:BANDWIDTH=\d+\nr0\/index\.m3u8\n/);
    const audio = (await playlist('audio'))!;
    expect(audio.segments.length).toBeGreaterThan(0);
    const audioFile = join(dir, 'audio.mp4');
    await writeFile(audioFile, Buffer.concat([(await text(`${keys.root}/ll/audio/${audio.segments[0]!.map}`))!, (await text(`${keys.root}/ll/audio/${audio.segments.at(-1)!.uri}`))!]));
    expect((await ffprobe(audioFile)).streams.map((s) => s.codec_type)).toEqual(['audio']);

    // A new rendition (the recording restarted) continues the playlist after a discontinuity, under new names.
    const sequenceBefore = (await playlist('r0'))!.mediaSequence;
    await first.stop();
    await hls.detach(first);
    const second = await startRendition('ll-basic', 1);
    hls.attach(second, 'r0');
    await (second as Rendition & { resume: () => Promise<unknown> }).resume();
    const afterRestart = await until('segments of the second rendition', async () => {
      const listed = await playlist('r0');
      return listed && listed.segments.filter((s) => s.discontinuity).length === 1 && listed.segments.at(-1)!.map !== firstRun.segments[0]!.map ? listed : undefined;
    }, 30_000);
    expect(afterRestart.mediaSequence).toBeGreaterThanOrEqual(sequenceBefore);
    const names = afterRestart.segments.map((s) => s.uri);
    expect(new Set(names).size).toBe(names.length);
    // Content under a name never changes: what was read earlier is still what is stored.
    for (const s of afterRestart.segments) {
      const before = seen.get(s.uri);
      if (before) expect((await text(`${keys.root}/ll/r0/${s.uri}`))!.equals(before)).toBe(true);
    }
    await until('the discontinuity to leave the window', async () => {
      const listed = await playlist('r0');
      return listed && listed.segments.every((s) => !s.discontinuity) && listed.segments[0]!.map === afterRestart.segments.at(-1)!.map ? listed : undefined;
    }, 30_000).then((listed) => expect(listed.discontinuitySequence).toBe(1));

    await second.stop();
    await hls.detach(second);
    await hls.end();
    expect((await playlist('r0'))!.ended).toBe(true);
    expect((await playlist('audio'))!.ended).toBe(true);
  }, 120_000);
});
