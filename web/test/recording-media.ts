import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LocalStorage } from '@podlive/storage';
import { recordingKeys, SERVER_CONTROL_ID, type RecordingFinishedBody, type RenditionId } from '@podlive/shared/recording';
import { signControlToken, type TokenSigningKey } from '@podlive/shared/tokens';

/**
 * A short real recording, as the recorder leaves one in storage: two renditions of CMAF HLS
 * (H.264 baseline + AAC, 2 s fMP4 segments) under the session's `live/`, a multivariant playlist,
 * one MP4 per rendition and a thumbnail, at the keys of recordingKeys().
 */

const DURATION_SEC = 6;
const RENDITIONS: { id: RenditionId; width: number; height: number; kbps: number }[] = [
  { id: 'r1', width: 1280, height: 720, kbps: 1200 },
  { id: 'r0', width: 640, height: 360, kbps: 400 },
];
const TYPES: Record<string, string> = { m3u8: 'application/vnd.apple.mpegurl', mp4: 'video/mp4', m4s: 'video/iso.segment', jpg: 'image/jpeg' };

export interface EncodedRecording {
  /** FFmpeg's output: live/<rendition>/{index.m3u8,init-0.mp4,seg-NNNNN.m4s} and thumbnail.jpg. */
  dir: string;
  remove(): Promise<void>;
}

/** Encodes the test pattern with a tone once (about 2 s on two cores). */
export async function encodeTestRecording(): Promise<EncodedRecording> {
  const dir = await mkdtemp(join(tmpdir(), 'podlive-recording-'));
  const outputs = RENDITIONS.flatMap(({ id, kbps }, i) => {
    const out = join(dir, 'live', id);
    return [
      '-map', `[v${i}]`, '-map', '1:a',
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'baseline', '-level', '3.1', '-pix_fmt', 'yuv420p',
      '-g', '60', '-keyint_min', '60', '-sc_threshold', '0', '-b:v', `${kbps}k`, '-c:a', 'aac', '-b:a', '96k', '-ac', '2',
      '-f', 'hls', '-hls_time', '2', '-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init-0.mp4',
      '-hls_segment_filename', join(out, 'seg-%05d.m4s'), '-start_number', '0', join(out, 'index.m3u8'),
    ];
  });
  await Promise.all(RENDITIONS.map(({ id }) => mkdir(join(dir, 'live', id), { recursive: true })));
  const scale = RENDITIONS.map(({ width, height }, i) => `[s${i}]scale=${width}:${height}[v${i}]`).join(';');
  await promisify(execFile)('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=30:duration=${DURATION_SEC}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${DURATION_SEC}`,
    '-filter_complex', `[0:v]split=3[s0][s1][t];${scale}`,
    ...outputs,
    '-map', '[t]', '-frames:v', '1', '-q:v', '3', join(dir, 'thumbnail.jpg'),
  ]);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Puts the encoded recording into the stack's local storage for `sessionId`; resolves with the finishing job's report. */
export async function storeRecording(dataDir: string, sessionId: string, encoded: EncodedRecording): Promise<RecordingFinishedBody> {
  const storage = new LocalStorage({ dir: join(dataDir, 'storage'), publicUrl: 'http://127.0.0.1', urlSecret: 'unused: nothing is signed here' });
  const put = (key: string, body: Buffer) => storage.put(key, body, TYPES[key.split('.').pop() ?? ''] ?? 'application/octet-stream');
  const keys = recordingKeys(sessionId);
  const renditions: RecordingFinishedBody['renditions'] = [];
  const master = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  let sizeBytes = 0;
  for (const { id, width, height } of RENDITIONS) {
    const from = join(encoded.dir, 'live', id);
    const names = (await readdir(from)).sort();
    const files = new Map(await Promise.all(names.map(async (name) => [name, await readFile(join(from, name))] as const)));
    for (const [name, body] of files) await put(`${keys.root}/live/${id}/${name}`, body);
    // The finished MP4: the init segment and the chunks, appended (a fragmented MP4).
    const mp4 = Buffer.concat([files.get('init-0.mp4'), ...names.filter((n) => n.endsWith('.m4s')).map((n) => files.get(n))].filter((b) => b !== undefined));
    const name = `${height}p`;
    await put(keys.vodMp4(name), mp4);
    sizeBytes += mp4.length;
    const bitrateKbps = Math.round((mp4.length * 8) / DURATION_SEC / 1000);
    renditions.push({ name, width, height, bitrateKbps, key: keys.vodMp4(name), playlistKey: keys.livePlaylist(id) });
    master.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bitrateKbps * 1000},RESOLUTION=${width}x${height},CODECS="avc1.42e01f,mp4a.40.2"`, `${id}/index.m3u8`);
  }
  await put(keys.liveMaster, Buffer.from(`${master.join('\n')}\n`));
  await put(keys.thumbnail, await readFile(join(encoded.dir, 'thumbnail.jpg')));
  return { status: 'ready', durationSec: DURATION_SEC, sizeBytes, renditions, masterKey: keys.liveMaster, thumbnailKey: keys.thumbnail };
}

/** PUT /internal/recordings/:sessionId as the recorder's finishing job does (the report token the control plane gives it). */
export async function reportFinished(serverUrl: string, key: TokenSigningKey, sessionId: string, body: RecordingFinishedBody): Promise<Response> {
  return fetch(`${serverUrl}/internal/recordings/${sessionId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${await signControlToken(key, { node: SERVER_CONTROL_ID, scope: 'recording:report', sid: sessionId })}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
