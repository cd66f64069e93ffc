import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import ffmpeg from 'fluent-ffmpeg';
import type { Storage } from '@podlive/storage';
import { createLogger } from '@podlive/shared/logger';
import {
  recordingKeys, type FinishedRendition, type RecordingFinishedBody, type RecordingManifest, type RenditionId,
} from '@podlive/shared/recording';
import { readManifest } from '../live/manifest';

const logger = createLogger('recorder').child({ module: 'finish' });

export interface FinishDeps {
  storage: Storage;
  /** The control plane's report token for this live (stop command): the recorder signs nothing. */
  reportToken: string;
  serverUrl: string;
  ffmpegPath: string;
}

/** The job cannot run yet (the live has not ended, or its manifest is missing): retried later. */
export class NotReadyError extends Error {
  override name = 'NotReadyError';
}

const run = (command: ffmpeg.FfmpegCommand) => new Promise<void>((resolve, reject) => {
  command.on('end', () => resolve()).on('error', (err: Error) => reject(err)).run();
});
const probe = (path: string) => new Promise<ffmpeg.FfprobeData>((resolve, reject) => ffmpeg.ffprobe(path, (err: Error | null, data) => (err ? reject(err) : resolve(data))));

async function download(storage: Storage, key: string, to: string): Promise<void> {
  const object = await storage.get(key);
  if (!object) throw new NotReadyError(`missing object ${key}`);
  await pipeline(object.body, createWriteStream(to));
}

/**
 * Finishes a live's recording from what the recorder uploaded: per rendition, each FFmpeg run's
 * init segment + chunks form one fragmented MP4; FFmpeg's concat demuxer joins the runs into one
 * MP4 (`-c copy`, faststart), so nothing is re-encoded. Then a thumbnail from the first frame of the
 * best rendition, the duration FFprobe reads, and the result goes to the control plane, which
 * writes the row and tells the host. Every output has a fixed key, so running it twice changes
 * nothing (the control plane's PUT is idempotent too).
 */
export async function finishRecording(sessionId: string, deps: FinishDeps): Promise<RecordingFinishedBody> {
  const manifest = await readManifest(deps.storage, sessionId);
  if (!manifest) throw new NotReadyError(`no manifest for ${sessionId}`);
  if (manifest.endedAt === null) throw new NotReadyError(`the live ${sessionId} is still being recorded`);
  const keys = recordingKeys(sessionId);
  const dir = await mkdtemp(join(tmpdir(), 'podlive-finish-'));
  try {
    const layers: { r: RenditionId; mp4: string; width: number; height: number; size: number; seconds: number }[] = [];
    for (const [r, rendition] of Object.entries(manifest.renditions) as [RenditionId, RecordingManifest['renditions'][RenditionId]][]) {
      if (!rendition || rendition.segments.length === 0) continue;
      const mp4 = await assemble(deps, keys, r, rendition.segments, join(dir, r));
      const data = await probe(mp4);
      const video = data.streams.find((s) => s.codec_type === 'video');
      if (!video?.width || !video.height) throw new Error(`rendition ${r} has no video stream`);
      const seconds = Number(data.format.duration ?? 0);
      const last = await pictureNear(mp4, seconds - 3);
      const picture = last && last.height > video.height ? last : { width: video.width, height: video.height };
      layers.push({ r, mp4, ...picture, size: (await stat(mp4)).size, seconds });
    }
    // Highest layer first: a lower layer the same size as a higher one adds nothing a viewer could
    // choose (and would take its name and key), so it is left out.
    layers.sort((a, b) => b.r.localeCompare(a.r));
    const renditions: FinishedRendition[] = [];
    let sizeBytes = 0;
    let durationSec = 0;
    let best: { mp4: string; height: number } | undefined;
    for (const { r, mp4, width, height, size, seconds } of layers) {
      const name = `${height}p`;
      if (renditions.some((x) => x.name === name)) {
        logger.warn({ sessionId, rendition: r, name }, 'a lower layer the same size as a higher one is left out');
        continue;
      }
      await deps.storage.put(keys.vodMp4(name), createReadStream(mp4), 'video/mp4');
      renditions.push({
        name, width, height, bitrateKbps: Math.round((size * 8) / Math.max(seconds, 0.001) / 1000),
        key: keys.vodMp4(name), playlistKey: keys.livePlaylist(r),
      });
      sizeBytes += size;
      durationSec = Math.max(durationSec, seconds);
      if (!best || height > best.height) best = { mp4, height };
    }
    if (!best) throw new Error('nothing was recorded');
    const thumbnail = join(dir, 'thumbnail.jpg');
    await run(ffmpeg(best.mp4).setFfmpegPath(deps.ffmpegPath).outputOptions(['-frames:v', '1', '-q:v', '3']).output(thumbnail));
    await deps.storage.put(keys.thumbnail, createReadStream(thumbnail), 'image/jpeg');
    renditions.sort((a, b) => b.height - a.height);
    const body: RecordingFinishedBody = {
      status: 'ready', durationSec: Math.round(durationSec), sizeBytes, renditions, masterKey: keys.liveMaster, thumbnailKey: keys.thumbnail,
    };
    await report(deps, sessionId, body);
    logger.info({ sessionId, renditions: renditions.map((x) => x.name), durationSec: body.durationSec }, 'recording finished');
    return body;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The picture size of the video a little before `atSec` (one key frame decoded). FFprobe's stream
 * size is the first picture's, and a layer's first pictures can be smaller than the rest: Chromium
 * starts a simulcast layer small and grows it as its bandwidth and CPU estimates allow (a loaded
 * run's top layer began at 852x480 and went on at 1280x720, and took the lower layer's name).
 */
async function pictureNear(path: string, atSec: number): Promise<{ width: number; height: number } | null> {
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-read_intervals', `${Math.max(0, atSec).toFixed(3)}%+#5`,
    '-show_entries', 'frame=width,height', '-of', 'json', path,
  ]);
  const frames = (JSON.parse(stdout) as { frames?: { width?: number; height?: number }[] }).frames ?? [];
  const frame = frames.at(-1);
  return frame?.width && frame.height ? { width: frame.width, height: frame.height } : null;
}

/** One rendition's MP4: each run's init + chunks appended (a fragmented MP4), runs joined by the concat demuxer. */
async function assemble(deps: FinishDeps, keys: ReturnType<typeof recordingKeys>, r: RenditionId, segments: RecordingManifest['renditions'][RenditionId]['segments'], dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const runs = [...new Set(segments.map((s) => s.run))];
  const parts: string[] = [];
  for (const runNumber of runs) {
    const part = join(dir, `run-${runNumber}.mp4`);
    await download(deps.storage, keys.init(r, runNumber), part);
    for (const s of segments.filter((x) => x.run === runNumber).sort((a, b) => a.index - b.index)) {
      const chunk = join(dir, 'chunk');
      await download(deps.storage, keys.segment(r, s.index), chunk);
      await pipeline(createReadStream(chunk), createWriteStream(part, { flags: 'a' }));
    }
    parts.push(part);
  }
  const list = join(dir, 'parts.txt');
  await writeFile(list, parts.map((p) => `file '${p}'`).join('\n'));
  const out = join(dir, `${r}.mp4`);
  await run(ffmpeg(list).setFfmpegPath(deps.ffmpegPath).inputOptions(['-f', 'concat', '-safe', '0']).outputOptions(['-c', 'copy', '-movflags', '+faststart']).output(out));
  return out;
}

/** PUT /internal/recordings/:sessionId on the control plane (the report token it gave for this live). */
async function report(deps: FinishDeps, sessionId: string, body: RecordingFinishedBody): Promise<void> {
  const token = deps.reportToken;
  const res = await fetch(`${deps.serverUrl}/internal/recordings/${encodeURIComponent(sessionId)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`the control plane answered ${res.status} to the finished recording`);
  await res.body?.cancel();
}
