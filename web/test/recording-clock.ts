import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { transformWithEsbuild } from 'vite';
import type { MediaNode } from '@podlive/sfu';
import { recordingKeys, type Recording, type RecordingManifest, type RenditionId } from '@podlive/shared/recording';
import { readManifest } from '@podlive/recorder/live/manifest';
import { readClock } from '../src/lib/media/clock-code';
import type { BrowserHarness } from './browser';
import { signIn, type Stack } from './stack';
import { goLiveFromStudio } from './studio';

/**
 * Where a recording begins and ends, measured with the latency pages' clock code
 * (src/lib/media/clock-code.ts): the studio's camera is a canvas with the host's clock painted in
 * every frame, the in-process SFU node traces the host's video as it arrives, and the recorded
 * frames are read back with FFmpeg.
 */

const CLOCK_CODE = fileURLToPath(new URL('../src/lib/media/clock-code.ts', import.meta.url));

/**
 * Makes the page's camera a 1280x720 canvas (an HD webcam's size: the studio's ladder gives it
 * 720p and 480p layers) repainted with Date.now() every 10 ms, as /dev/latency-publish does; the
 * microphone stays Chromium's fake one. Before the page loads.
 */
export async function useClockCamera(page: Page): Promise<void> {
  const module = await transformWithEsbuild(await readFile(CLOCK_CODE, 'utf8'), CLOCK_CODE, { format: 'iife', globalName: 'podliveClockCode' });
  await page.addInitScript(`${module.code}
(() => {
  const { paintClock, WIDTH, HEIGHT } = podliveClockCode;
  const devices = navigator.mediaDevices;
  const original = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const audio = constraints && constraints.audio ? await original({ audio: constraints.audio }) : null;
    if (!constraints || !constraints.video) return audio;
    const canvas = document.createElement('canvas');
    canvas.width = 1280;
    canvas.height = 720;
    const ctx = canvas.getContext('2d');
    ctx.scale(canvas.width / WIDTH, canvas.height / HEIGHT);
    const paint = () => paintClock(ctx, Date.now());
    paint();
    setInterval(paint, 10);
    return new MediaStream([...(audio ? audio.getAudioTracks() : []), canvas.captureStream(30).getVideoTracks()[0]]);
  };
})();`);
}

/** One frame of a video layer as the origin node received it. */
export interface ArrivedFrame {
  /** RTP timestamp (90 kHz: the capture clock of the host's encoder). */
  rtpTs: number;
  /** When the node's worker received it (Date.now() scale). */
  at: number;
}

/** A simulcast layer of the host's camera at the node: its first packet traced, and every key frame. */
export interface ArrivedLayer {
  ssrc: number;
  rid: string | undefined;
  first: ArrivedFrame & { keyFrame: boolean };
  keyFrames: ArrivedFrame[];
}

/** The host's camera as the node got it. */
export interface Arrivals {
  /** When the first video producer was made on the node (Date.now()): no frame is accepted before. */
  producerAt: number | undefined;
  layers: Map<number, ArrivedLayer>;
}

type Worker = MediaNode['pool']['workers'][number]['worker'];
type Router = Awaited<ReturnType<Worker['createRouter']>>;
type Producer = Awaited<ReturnType<Awaited<ReturnType<Router['createPlainTransport']>>['produce']>>;

/**
 * The worker's trace timestamps are uv_hrtime() in ms (CLOCK_MONOTONIC), the clock of
 * process.hrtime: mapped to Date.now()'s scale, without the channel's delay.
 */
const wallOfWorkerMs = (workerMs: number) => Date.now() - (Number(process.hrtime.bigint() / 1_000_000n) - workerMs);

/**
 * Traces every video producer made on `node` from its creation: when it was made, the first RTP
 * packet of each of its streams (simulcast layers) and every key frame. The trace starts a moment
 * after the producer (a request to the worker), so a layer's first packets may be missed:
 * `first.keyFrame` says the layer was seen from its start. Per-packet tracing stops after
 * `rtpSeconds` (key frames stay traced).
 */
export function traceArrivals(node: MediaNode, rtpSeconds = 5): Arrivals & { nameLayers(): Promise<void>; stop(): void } {
  const arrivals: Arrivals = { producerAt: undefined, layers: new Map() };
  const producers: Producer[] = [];
  const onProducer = (producer: Producer) => {
    if (producer.kind !== 'video') return;
    arrivals.producerAt ??= Date.now();
    producers.push(producer);
    producer.on('trace', (trace) => {
      const info = trace.info as { ssrc: number; timestamp: number; isKeyFrame: boolean; payloadSize: number; rid?: string; isRtx?: boolean };
      // Padding only (the encoder probing the bandwidth) carries no frame: its timestamp is the
      // last frame's, or any before the first.
      if (info.isRtx || info.payloadSize === 0) return;
      const frame = { rtpTs: info.timestamp, at: wallOfWorkerMs(trace.timestamp) };
      let layer = arrivals.layers.get(info.ssrc);
      if (!layer) {
        layer = { ssrc: info.ssrc, rid: info.rid, first: { ...frame, keyFrame: info.isKeyFrame }, keyFrames: [] };
        arrivals.layers.set(info.ssrc, layer);
      }
      layer.rid ??= info.rid;
      if (info.isKeyFrame && layer.keyFrames.at(-1)?.rtpTs !== frame.rtpTs) layer.keyFrames.push(frame);
    });
    void producer.enableTraceEvent(['rtp', 'keyframe']);
    setTimeout(() => {
      if (!producer.closed) void producer.enableTraceEvent(['keyframe']);
    }, rtpSeconds * 1000).unref();
  };
  const onRouter = (router: Router) => router.observer.on('newtransport', (transport) => transport.observer.on('newproducer', onProducer));
  const workers = node.pool.workers.map((w) => w.worker);
  for (const worker of workers) worker.observer.on('newrouter', onRouter);
  return Object.assign(arrivals, {
    /**
     * Names every traced layer by its rid from the producers' stats (while they live): a packet
     * carries its rid only in the stream's first moments, which the trace, switched on a moment
     * after the producer, may miss on a busy machine.
     */
    async nameLayers() {
      for (const producer of producers.filter((p) => !p.closed)) {
        for (const stat of (await producer.getStats()) as { ssrc?: number; rid?: string }[]) {
          const layer = stat.ssrc === undefined ? undefined : arrivals.layers.get(stat.ssrc);
          if (layer && stat.rid) layer.rid ??= stat.rid;
        }
      }
    },
    stop() {
      for (const worker of workers) worker.observer.off('newrouter', onRouter);
      for (const producer of producers) if (!producer.closed) void producer.enableTraceEvent([]);
    },
  });
}

/**
 * Which rendition (`r0`…) a finished MP4 was made from: the one whose chunks add up closest to its
 * size (the layers differ about twofold; their names, by picture height, can move when a layer
 * was sent smaller for a while).
 */
export function renditionOfFile(manifest: RecordingManifest, bytes: number): RenditionId {
  const size = (r: RenditionId) => (manifest.renditions[r]?.segments ?? []).reduce((n, s) => n + s.bytes, 0);
  const ids = Object.keys(manifest.renditions) as RenditionId[];
  return ids.reduce((a, b) => (Math.abs(size(b) - bytes) < Math.abs(size(a) - bytes) ? b : a));
}

/**
 * The layers rendition `r0`, `r1`… may have been fed from: the recorder records layer i as
 * rendition ri, and the node's simulcast consumer forwards the best layer up to i that the host
 * sends (Chromium leaves its top layers out while its bandwidth estimate or its CPU is short).
 * Layers whose rid is unknown could be any.
 */
export function layersOf(layers: Map<number, ArrivedLayer>, rendition: string): ArrivedLayer[] {
  return [...layers.values()].filter((l) => l.rid === undefined || l.rid <= rendition);
}

/** A decoded frame's clock code, and where it sits in the file. */
export interface ClockedFrame {
  ptsSec: number;
  clock: number | null;
}

const run = promisify(execFile);
const SIZE = { width: 352, height: 198 };

/** Decodes frames of `file` (FFmpeg input options `seek`, at most `frames`) and reads their clock codes. */
async function clockedFrames(file: string, seek: string[], frames: number): Promise<ClockedFrame[]> {
  const { stdout, stderr } = await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'info', ...seek, '-i', file, '-map', '0:v:0', '-frames:v', String(frames), '-fps_mode', 'passthrough',
    '-vf', `showinfo,scale=${SIZE.width}:${SIZE.height}`, '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1',
  ], { encoding: 'buffer', maxBuffer: 1024 * 1024 * 1024 });
  const pts = [...stderr.toString('utf8').matchAll(/\bpts_time:\s*([\d.-]+)/g)].map((m) => Number(m[1]));
  const bytes = SIZE.width * SIZE.height * 4;
  const out: ClockedFrame[] = [];
  for (let i = 0; i * bytes < stdout.length; i++) {
    const pixels = new Uint8ClampedArray(stdout.buffer, stdout.byteOffset + i * bytes, bytes);
    out.push({ ptsSec: pts[i] ?? Number.NaN, clock: readClock(pixels, SIZE.width, SIZE.height) });
  }
  return out;
}

/** The clocks of a recording's first frames and last frames (decoded from its last `tailSec`). */
export async function recordedClocks(file: string, { head = 10, tailSec = 2 } = {}): Promise<{ head: ClockedFrame[]; tail: ClockedFrame[]; durationSec: number }> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return {
    head: await clockedFrames(file, [], head),
    tail: await clockedFrames(file, ['-sseof', `-${tailSec}`], 10_000),
    durationSec: Number(stdout.trim()),
  };
}

/** What a rendition's recorded frames say about where the recording begins and ends. */
export interface RenditionBounds {
  name: string;
  /** First recorded frame's clock − the host's first published frame's, ms. */
  firstFrameMs: number;
  /** Paint → node of the first recorded frame (the node's key frame it is), ms. */
  toNodeMs: number;
  /** End Live − the last recorded frame's clock, ms. */
  endCutMs: number;
  /** The recording's duration − (End Live − the host's first frame), s. */
  durationErrorSec: number;
  durationSec: number;
  /** PTS of the first video frame in the file (s). */
  firstPtsSec: number;
  /** The file's first frames: PTS (s) and clock − the host's first frame (ms; null: unreadable). */
  head: [number, number | null][];
}

const rtpMs = (to: number, from: number) => ((to - from) >>> 0) / 90;

/** When a layer of the host's camera reached the node, against the host's first frame (ms). */
export interface LayerArrival {
  rid: string | undefined;
  firstPacketMs: number;
  firstKeyFrameMs: number | null;
  /** Its first packet traced was a key frame: seen from its start. */
  tracedFromItsStart: boolean;
}

/**
 * For each recorded rendition (its MP4 and its id, `r0`…), where it begins and ends against the
 * host's first published frame and End Live (`endedAt`, Date.now() at the click).
 *
 * The first recorded frame is a key frame of its layer: the first key frame the node received
 * after that frame's clock, which gives its paint → node delay. The host's first published frame
 * is the first the node accepted, from the producer's creation: painted that delay before it. Where
 * the trace saw a layer from its first packet (a key frame), the RTP timestamps give that layer's
 * first frame exactly (the encoder's capture clock); the host's first frame is the earliest.
 */
export async function measureRecordingBounds(
  files: { rendition: string; name: string; file: string }[], arrivals: Arrivals, endedAt: number,
): Promise<{ hostFirstClock: number; expectedSec: number; renditions: RenditionBounds[]; layers: LayerArrival[] }> {
  if (arrivals.producerAt === undefined) throw new Error('the node made no video producer');
  const measured = await Promise.all(files.map(async (f) => {
    const clocks = await recordedClocks(f.file);
    const first = clocks.head.find((x) => x.clock !== null);
    const last = clocks.tail.findLast((x) => x.clock !== null);
    if (!first || !last) throw new Error(`${f.name}: no readable clock in its first or last frames`);
    // The file's first frame, from the first readable one.
    const firstClock = first.clock! - (first.ptsSec - clocks.head[0]!.ptsSec) * 1000;
    // The key frame the recording starts with: the first of the layers it may come from to arrive after it was painted.
    const keys = layersOf(arrivals.layers, f.rendition).flatMap((layer) => {
      const key = layer.keyFrames.find((k) => k.at >= firstClock);
      return key ? [{ layer, key }] : [];
    });
    if (keys.length === 0) throw new Error(`${f.name}: no key frame of a layer up to ${f.rendition} arrived after the recording's first frame (layers: ${[...arrivals.layers.values()].map((l) => l.rid).join(', ')})`);
    const { layer, key } = keys.reduce((a, b) => (b.key.at < a.key.at ? b : a));
    const toNodeMs = key.at - firstClock;
    const layerFirstClock = Math.min(
      arrivals.producerAt! - toNodeMs,
      layer.first.keyFrame ? firstClock - rtpMs(key.rtpTs, layer.first.rtpTs) : Number.POSITIVE_INFINITY,
    );
    return { f, clocks, firstClock, lastClock: last.clock! + (clocks.tail.at(-1)!.ptsSec - last.ptsSec) * 1000, toNodeMs, layerFirstClock };
  }));
  const hostFirstClock = Math.min(...measured.map((m) => m.layerFirstClock));
  const expectedSec = (endedAt - hostFirstClock) / 1000;
  return {
    hostFirstClock,
    expectedSec,
    layers: [...arrivals.layers.values()].map((l) => ({
      rid: l.rid,
      firstPacketMs: Math.round(l.first.at - hostFirstClock),
      firstKeyFrameMs: l.keyFrames[0] ? Math.round(l.keyFrames[0].at - hostFirstClock) : null,
      tracedFromItsStart: l.first.keyFrame,
    })),
    renditions: measured.map((m) => ({
      name: m.f.name,
      firstFrameMs: Math.round(m.firstClock - hostFirstClock),
      toNodeMs: Math.round(m.toNodeMs),
      endCutMs: Math.round(endedAt - m.lastClock),
      durationErrorSec: Number((m.clocks.durationSec - expectedSec).toFixed(3)),
      durationSec: m.clocks.durationSec,
      firstPtsSec: m.clocks.head[0]!.ptsSec,
      head: m.clocks.head.map((x): [number, number | null] => [x.ptsSec, x.clock === null ? null : Math.round(x.clock - hostFirstClock)]),
    })),
  };
}

/**
 * A live from /studio with the clock camera, ended after `liveSeconds` (End Live and its
 * confirmation, as the host does), recorded by the stack's recorder until the recording is ready;
 * then where each rendition of it begins and ends (measureRecordingBounds).
 */
export async function recordFromStudio(
  stack: Stack, browser: BrowserHarness, o: { handle: string; liveSeconds: number },
): Promise<{ bounds: Awaited<ReturnType<typeof measureRecordingBounds>>; endLiveToReadyMs: number }> {
  const host = await browser.newPage();
  await useClockCamera(host);
  await signIn(stack, host, { handle: o.handle, displayName: `Host ${o.handle}`, path: '/studio' });
  const arrivals = traceArrivals(stack.node!);
  const dir = await mkdtemp(join(tmpdir(), 'podlive-recording-clock-'));
  try {
    const id = await goLiveFromStudio(host, 'Hello and welcome');
    await new Promise((r) => setTimeout(r, o.liveSeconds * 1000));
    await arrivals.nameLayers();
    await host.getByRole('button', { name: 'End Live' }).click();
    const confirm = host.getByRole('dialog').getByRole('button', { name: 'End Live' });
    await confirm.waitFor();
    const endedAt = Date.now();
    await confirm.click();
    let recording: Recording | undefined;
    for (const deadline = Date.now() + 60_000; !recording; await new Promise((r) => setTimeout(r, 200))) {
      if (Date.now() > deadline) throw new Error('the recording was not ready 60 s after End Live');
      const page = (await (await fetch(`${stack.url}/api/users/${o.handle}/recordings`)).json()) as { items: Recording[] };
      recording = page.items.find((x) => x.sessionId === id && x.status === 'ready');
    }
    const endLiveToReadyMs = Date.now() - endedAt;
    const storage = stack.recorder!.storage;
    const manifest = await readManifest(storage, id);
    if (!manifest) throw new Error(`no manifest for ${id}`);
    const files = await Promise.all(recording.renditions.map(async (x) => {
      const file = join(dir, `${x.name}.mp4`);
      const mp4 = await buffer((await storage.get(recordingKeys(id).vodMp4(x.name)))!.body);
      await writeFile(file, mp4);
      return { rendition: renditionOfFile(manifest, mp4.length), name: x.name, file };
    }));
    return { bounds: await measureRecordingBounds(files, arrivals, endedAt), endLiveToReadyMs };
  } finally {
    arrivals.stop();
    await host.close();
    await rm(dir, { recursive: true, force: true });
  }
}
