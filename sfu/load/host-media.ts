/**
 * Real pre-encoded media for a headless host: a looping test clip (`testsrc2` + a 440 Hz sine)
 * encoded once by the system's FFmpeg into a cache directory, then read into memory.
 *
 * Format: ffmpeg writes each H.264 layer as an Annex-B elementary stream (`-f h264`) with access
 * unit delimiters (x264 `aud=1`), and the Opus stream as Ogg. Both are trivial to parse here
 * (split at start codes and at AUDs; read Ogg pages' lacing), and nothing about RTP is left to
 * ffmpeg: its `-f rtp` output is one UDP stream per process with its own SSRC, sequence numbers
 * and timestamps, which would have to be captured and rewritten anyway to loop and to keep three
 * layers in lockstep.
 *
 * Video: H.264 constrained baseline, level 3.1 (SPS 42c01f, within the routers' 42e01f), no
 * B-frames, one slice per frame, an IDR exactly every 2 s (`-g`, no scene cut), SPS and PPS
 * repeated before every IDR; 720p/360p/180p at about 1500/500/150 kbit/s from the same frames, so
 * the layers' IDRs fall on the same frame numbers. Audio: Opus 48 kHz stereo, 64 kbit/s CBR, 20 ms
 * frames, cut to exactly the clip's length so audio and video loop together.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface LayerSpec {
  width: number;
  height: number;
  kbps: number;
}

export interface HostMediaOptions {
  /** Clip length in seconds, a multiple of the 2 s GOP (default 10). */
  seconds?: number;
  /** Frames per second (default 30). */
  fps?: number;
  /** Video layers, lowest first (default 180p/360p/720p at 150/500/1500 kbit/s). */
  layers?: LayerSpec[];
  /** Where encoded clips are kept (default `os.tmpdir()/podlive-host-media`). */
  cacheDir?: string;
  /** Frequency of the audio tone (default 440 Hz): two hosts told apart by ear, or by a band-pass filter. */
  toneHz?: number;
}

export interface HostMedia {
  fps: number;
  seconds: number;
  /** Lowest first; every layer has the same number of frames. */
  layers: { spec: LayerSpec; frames: AccessUnit[] }[];
  /** Opus packets of 20 ms, `seconds * 50` of them. */
  opus: Buffer[];
  /** The cache directory holding the encoded files. */
  dir: string;
}

/** The NAL units of one frame, without start codes (AUD, SEI and filler dropped). */
export type AccessUnit = Buffer[];

export const DEFAULT_LAYERS: readonly LayerSpec[] = [
  { width: 320, height: 180, kbps: 150 },
  { width: 640, height: 360, kbps: 500 },
  { width: 1280, height: 720, kbps: 1500 },
];
export const GOP_SECONDS = 2;
const OPUS_FRAME_MS = 20;
const AUDIO_KBPS = 64;
/** Bump when the encoding settings change: the cache key includes it. */
const FORMAT_VERSION = 2;

const prepared = new Map<string, Promise<HostMedia>>();

/** Encodes the clip unless the cache has it, and reads it (once per process and settings). */
export function prepareHostMedia(o: HostMediaOptions = {}): Promise<HostMedia> {
  const seconds = o.seconds ?? 10;
  const fps = o.fps ?? 30;
  const layers = o.layers ?? [...DEFAULT_LAYERS];
  if (!Number.isInteger(seconds) || seconds <= 0 || seconds % GOP_SECONDS !== 0) {
    throw new TypeError(`seconds must be a positive multiple of ${GOP_SECONDS}, got ${seconds}`);
  }
  if (!Number.isInteger(fps) || fps < 1 || fps > 60) throw new TypeError(`fps must be an integer from 1 to 60, got ${fps}`);
  if (layers.length === 0) throw new TypeError('at least one video layer is needed');
  const toneHz = o.toneHz ?? 440;
  if (!Number.isInteger(toneHz) || toneHz < 20 || toneHz > 20_000) throw new TypeError(`toneHz must be an integer from 20 to 20000, got ${toneHz}`);
  const params = { FORMAT_VERSION, seconds, fps, layers, AUDIO_KBPS, ...(toneHz === 440 ? {} : { toneHz }) };
  const hash = createHash('sha256').update(JSON.stringify(params)).digest('hex').slice(0, 16);
  const dir = join(o.cacheDir ?? join(tmpdir(), 'podlive-host-media'), hash);
  let pending = prepared.get(dir);
  if (!pending) {
    pending = load(dir, seconds, fps, layers, toneHz);
    prepared.set(dir, pending);
    pending.catch(() => prepared.delete(dir));
  }
  return pending;
}

async function load(dir: string, seconds: number, fps: number, layers: LayerSpec[], toneHz: number): Promise<HostMedia> {
  if (!(await exists(dir))) await encode(dir, seconds, fps, layers, toneHz);
  const read = await Promise.all(layers.map(async (spec, i) => ({ spec, frames: accessUnits(await readFile(join(dir, `layer${i}.h264`))) })));
  const frames = seconds * fps;
  for (const layer of read) {
    if (layer.frames.length !== frames) throw new Error(`${dir}: layer ${layer.spec.height}p has ${layer.frames.length} frames, expected ${frames}`);
  }
  const packets = oggPackets(await readFile(join(dir, 'audio.ogg')));
  const head = packets[0];
  if (!head || head.toString('latin1', 0, 8) !== 'OpusHead' || head[9] !== 2) throw new Error(`${dir}: audio.ogg is not stereo Opus`);
  const opus = packets.slice(2, 2 + (seconds * 1000) / OPUS_FRAME_MS);
  if (opus.length !== (seconds * 1000) / OPUS_FRAME_MS) throw new Error(`${dir}: audio.ogg has ${opus.length} Opus packets, expected ${(seconds * 1000) / OPUS_FRAME_MS}`);
  return { fps, seconds, layers: read, opus, dir };
}

/** One ffmpeg run into a temporary directory, renamed into place (concurrent processes race safely). */
async function encode(dir: string, seconds: number, fps: number, layers: LayerSpec[], toneHz: number): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await mkdir(tmp, { recursive: true });
  const split = layers.map((_, i) => `[v${i}]`).join('');
  const scale = layers.map((l, i) => `[v${i}]scale=${l.width}:${l.height}[s${i}]`).join(';');
  const video = layers.flatMap((l, i) => [
    '-map', `[s${i}]`, '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-level:v', '3.1',
    '-pix_fmt', 'yuv420p', '-g', String(fps * GOP_SECONDS), '-keyint_min', String(fps * GOP_SECONDS), '-sc_threshold', '0', '-bf', '0',
    '-b:v', `${l.kbps}k`, '-maxrate', `${l.kbps}k`, '-bufsize', `${l.kbps}k`, '-x264-params', 'aud=1',
    '-f', 'h264', join(tmp, `layer${i}.h264`),
  ]);
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${fps}:duration=${seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=${toneHz}:sample_rate=48000:duration=${seconds}`,
    '-filter_complex', `[0:v]split=${layers.length}${split};${scale}`,
    ...video,
    '-map', '1:a', '-c:a', 'libopus', '-b:a', `${AUDIO_KBPS}k`, '-ac', '2', '-ar', '48000',
    '-frame_duration', String(OPUS_FRAME_MS), '-application', 'audio', '-vbr', 'off', '-f', 'ogg', join(tmp, 'audio.ogg'),
  ];
  try {
    await promisify(execFile)('ffmpeg', args, { maxBuffer: 4 * 2 ** 20 }).catch((err: NodeJS.ErrnoException & { stderr?: string }) => {
      if (err.code === 'ENOENT' && !err.stderr) throw new Error('ffmpeg not found on PATH: the file publisher needs it (with libx264 and libopus) to encode its clip');
      throw new Error(`ffmpeg failed to encode the host clip: ${(err.stderr || err.message).trim().split('\n').slice(-3).join(' / ')}`);
    });
    await rename(tmp, dir).catch((err: NodeJS.ErrnoException) => {
      // Another process encoded the same clip meanwhile: use theirs.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

const exists = (path: string) => stat(path).then(() => true, () => false);

const START_CODE = Buffer.from([0, 0, 1]);
const NAL_AUD = 9;
const DROPPED = new Set([6, NAL_AUD, 12]); // SEI, access unit delimiter, filler

/** NAL units of an Annex-B stream, without start codes. */
export function nalUnits(stream: Buffer): Buffer[] {
  const nals: Buffer[] = [];
  let start = stream.indexOf(START_CODE);
  while (start !== -1) {
    const from = start + 3;
    const next = stream.indexOf(START_CODE, from);
    let end = next === -1 ? stream.length : next;
    // A 4-byte start code's leading zero (and trailing_zero_8bits) belong to no NAL unit.
    while (end > from && stream[end - 1] === 0) end--;
    if (end > from) nals.push(stream.subarray(from, end));
    start = next;
  }
  return nals;
}

/** Frames of an Annex-B stream written with access unit delimiters. */
export function accessUnits(stream: Buffer): AccessUnit[] {
  const frames: AccessUnit[] = [];
  let current: AccessUnit | undefined;
  for (const nal of nalUnits(stream)) {
    const type = (nal[0] ?? 0) & 0x1f;
    if (type === NAL_AUD || !current) {
      current = [];
      frames.push(current);
    }
    if (!DROPPED.has(type)) current.push(nal);
  }
  return frames.filter((f) => f.length > 0);
}

/** Packets of an Ogg stream (RFC 3533), a single logical stream assumed. */
export function oggPackets(stream: Buffer): Buffer[] {
  const packets: Buffer[] = [];
  let partial: Buffer[] = [];
  let pos = 0;
  while (pos + 27 <= stream.length) {
    if (stream.toString('latin1', pos, pos + 4) !== 'OggS') throw new Error(`not an Ogg page at byte ${pos}`);
    const segments = stream[pos + 26] ?? 0;
    let data = pos + 27 + segments;
    for (const lacing of stream.subarray(pos + 27, pos + 27 + segments)) {
      partial.push(stream.subarray(data, data + lacing));
      data += lacing;
      if (lacing < 255) {
        packets.push(Buffer.concat(partial));
        partial = [];
      }
    }
    pos = data;
  }
  return packets;
}
