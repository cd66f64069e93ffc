import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';

/** What the recorder needs from FFmpeg: H.264 copied as is, Opus read and AAC written, fMP4 + HLS out. */
export const REQUIRED = { encoders: ['aac'], decoders: ['opus', 'h264'], formats: ['mp4', 'hls', 'rtp', 'sdp'] } as const;

export interface FfmpegCapabilities {
  path: string;
  version: string | null;
  ok: boolean;
  missing: string[];
}

function list<T>(fn: (cb: (err: Error | null, data: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, data) => (err ? reject(err) : resolve(data))));
}

/**
 * Asks FFmpeg whether it has every codec and format the recorder uses. The binary is run once
 * first: fluent-ffmpeg caches capabilities per process and would not notice a changed path.
 */
export async function probeFfmpeg(path: string): Promise<FfmpegCapabilities> {
  let version: string | null;
  try {
    const { stdout } = await promisify(execFile)(path, ['-version']);
    version = /ffmpeg version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch (err) {
    return { path, version: null, ok: false, missing: [`ffmpeg not runnable: ${(err as Error).message}`] };
  }
  ffmpeg.setFfmpegPath(path);
  try {
    const [codecs, formats] = await Promise.all([list<ffmpeg.Codecs>((cb) => ffmpeg.getAvailableCodecs(cb)), list<ffmpeg.Formats>((cb) => ffmpeg.getAvailableFormats(cb))]);
    const missing = [
      ...REQUIRED.encoders.filter((c) => !codecs[c]?.canEncode).map((c) => `encoder:${c}`),
      ...REQUIRED.decoders.filter((c) => !codecs[c]?.canDecode).map((c) => `decoder:${c}`),
      ...REQUIRED.formats.filter((f) => !formats[f]).map((f) => `format:${f}`),
    ];
    return { path, version, ok: missing.length === 0, missing };
  } catch (err) {
    return { path, version, ok: false, missing: [`ffmpeg capabilities unreadable: ${(err as Error).message}`] };
  }
}

/**
 * fluent-ffmpeg lists FFmpeg's formats and encoders (an FFmpeg run each) before the first command
 * it runs in a process, then keeps them. Done at start-up, not when a live's first FFmpeg is due:
 * on a busy two-core machine those runs took 2.3 s, all of it missing from the live's recording.
 */
export async function warmFfmpeg(path: string): Promise<void> {
  ffmpeg.setFfmpegPath(path);
  await Promise.all([list((cb) => ffmpeg.getAvailableFormats(cb)), list((cb) => ffmpeg.getAvailableEncoders(cb))]).catch(() => undefined);
}
