/**
 * Recording: (3, reported first) where a live's recording begins and ends against the host's
 * first frame and End Live, a 40 s live from /studio in Chromium (web/test/recording-clock.ts);
 * (1) the recorder's CPU per live while it records — a real MediaNode, the headless
 * FilePublisher (720p/360p/180p simulcast + Opus) and the real Recorder in this process, its
 * FFmpeg processes measured from /proc; (2) End Live → playable and → all renditions ready for a
 * 10-minute live: the stop (FFmpeg flushes, last chunks and closed playlists uploaded: the HLS VOD
 * plays from then on) is measured on the live of (1); the finishing job on 10 minutes of chunks
 * made by FFmpeg from the same clip (copied, so the chunks are what the recorder would upload).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomHandle } from '@podlive/shared/testing/handles';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { signControlToken, signMediaToken } from '@podlive/shared/tokens';
import { recordingKeys, type ManifestSegment, type RenditionId } from '@podlive/shared/recording';
import { writeResult } from './lib/result';
import { round, sleep } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { MediaNode } = await import('@podlive/sfu');
const { loadConfig: sfuConfig } = await import('@podlive/sfu/config');
const { FilePublisher } = await import('../../sfu/load/file-publisher');
const { prepareHostMedia } = await import('../../sfu/load/host-media');
const { loadConfig } = await import('@podlive/recorder/config');
const { Recorder } = await import('@podlive/recorder/Recorder');
const { finishRecording } = await import('@podlive/recorder/finish/finish-job');
const { ManifestStore } = await import('@podlive/recorder/live/manifest');

/** The control plane's key pair: the recorder and the node get the public half; its tokens come from the bench, as the control plane gives them. */
const KEYS = testKeyPair();
const reportToken = (sid: string) => signControlToken(KEYS.privateKey, { node: 'server', scope: 'recording:report', sid });
const RECORD_SECONDS = 60;
const WINDOW_SECONDS = 30;
const LONG_LIVE_SECONDS = 600;
const t0 = performance.now();
const notMeasured: string[] = [];

/** The control plane's PUT /internal/recordings/:id, answered at once (its own cost is in the server tests). */
const plane = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
});
await new Promise<void>((resolve) => plane.listen(0, '127.0.0.1', resolve));
const serverUrl = `http://127.0.0.1:${(plane.address() as { port: number }).port}`;

const dataDir = await mkdtemp(join(tmpdir(), 'podlive-bench-recording-'));
const config = loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, SERVER_URL: serverUrl });
const recorder = await Recorder.create(config);
const node = await MediaNode.start(sfuConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'bench', MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, RTC_PORT_BASE: String(await freeRtcPortBase(1)) }));
const TICK = 100; // clock ticks per second (Linux)

/** utime+stime (s) of every FFmpeg child of this process. */
async function ffmpegCpuSeconds(): Promise<{ seconds: number; processes: number }> {
  let seconds = 0;
  let processes = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (!stat.includes('(ffmpeg)') || Number(fields[1]) !== process.pid) continue;
    seconds += (Number(fields[11]) + Number(fields[12])) / TICK;
    processes++;
  }
  return { seconds, processes };
}

// (1) A live recorded for a minute; CPU over a window in its middle.
const sessionId = randomUUID();
const hostId = randomUUID();
const publisher = await FilePublisher.start({ node, session: sessionId, key: KEYS.privateKey, userId: hostId });
await recorder.start({
  sessionId, hostId, reportToken: await reportToken(sessionId),
  node: { id: 'bench', url: node.url, token: await signMediaToken(KEYS.privateKey, { sid: sessionId, sub: 'recorder', role: 'recorder', node: 'bench' }) },
});
await sleep((RECORD_SECONDS - WINDOW_SECONDS) / 2 * 1000);
const c0 = await ffmpegCpuSeconds();
const self0 = process.cpuUsage();
const w0 = performance.now();
await sleep(WINDOW_SECONDS * 1000);
const c1 = await ffmpegCpuSeconds();
const selfCpu = process.cpuUsage(self0);
const window = (performance.now() - w0) / 1000;
await sleep((RECORD_SECONDS - WINDOW_SECONDS) / 2 * 1000);
const live = await recorder.recording(sessionId);
const renditions = Object.keys(live?.manifest.renditions ?? {}).length;
const stopStarted = performance.now();
await recorder.stop(sessionId, await reportToken(sessionId));
const stopMs = performance.now() - stopStarted;
await recorder.queue.idle();
publisher.close();
const recording = {
  renditions,
  ffmpegProcesses: c1.processes,
  ffmpegCpuPercentOfCore: round(((c1.seconds - c0.seconds) / window) * 100),
  /** This Node process (SFU node's JS side, publisher, recorder's JS) over the same window: an upper bound for the recorder's own JS. */
  nodeProcessCpuPercentOfCore: round(((selfCpu.user + selfCpu.system) / 1e6 / window) * 100),
  stopMs: Math.round(stopMs),
};
process.stderr.write(`[recording] live: ${JSON.stringify(recording)}\n`);

// (2) The finishing job on a 10-minute live: 20 chunks of 30 s per rendition, cut by FFmpeg from the clip.
const longId = randomUUID();
const media = await prepareHostMedia();
const keys = recordingKeys(longId);
const manifest = new ManifestStore(recorder.storage, { sessionId: longId, hostId, startedAt: Date.now(), endedAt: null, renditions: {} });
const work = await mkdtemp(join(tmpdir(), 'podlive-bench-long-'));
const loops = Math.ceil(LONG_LIVE_SECONDS / media.seconds) - 1;
const prepStarted = performance.now();
for (let i = 0; i < media.layers.length; i++) {
  const r = `r${i}` as RenditionId;
  const out = join(work, r);
  await promisify(execFile)('mkdir', ['-p', out]);
  await promisify(execFile)('ffmpeg', [
    '-v', 'error', '-stream_loop', String(loops), '-r', String(media.fps), '-i', join(media.dir, `layer${i}.h264`), '-stream_loop', String(loops), '-i', join(media.dir, 'audio.ogg'),
    '-t', String(LONG_LIVE_SECONDS), '-map', '0:v', '-map', '1:a', '-c:v', 'copy', '-c:a', 'aac', '-b:a', '128k',
    '-f', 'hls', '-hls_segment_type', 'fmp4', '-hls_time', '30', '-hls_playlist_type', 'vod', '-hls_fmp4_init_filename', 'init-0.mp4',
    '-hls_segment_filename', join(out, 'seg-%05d.m4s'), join(out, 'index.m3u8'),
  ]);
  await recorder.storage.put(keys.init(r, 0), await readFile(join(out, 'init-0.mp4')), 'video/mp4');
  const playlist = await readFile(join(out, 'index.m3u8'), 'utf8');
  const durations = [...playlist.matchAll(/#EXTINF:([\d.]+),/g)].map((m) => Number(m[1]));
  for (const [index, durationSec] of durations.entries()) {
    const bytes = await readFile(join(out, `seg-${String(index).padStart(5, '0')}.m4s`));
    await recorder.storage.put(keys.segment(r, index), bytes, 'video/iso.segment');
    await manifest.add(r, { index, run: 0, durationSec, bytes: bytes.length, at: Date.now() } satisfies ManifestSegment);
  }
  manifest.setVideo(r, media.layers[i]!.spec.width, media.layers[i]!.spec.height);
}
await manifest.end();
const prepSeconds = (performance.now() - prepStarted) / 1000;
const finishStarted = performance.now();
let finishMs: number | null = null;
let longResult: { durationSec: number; sizeBytes: number; renditions: string[] } | null = null;
try {
  const body = await finishRecording(longId, { storage: recorder.storage, reportToken: await reportToken(longId), serverUrl, ffmpegPath: 'ffmpeg' });
  finishMs = performance.now() - finishStarted;
  longResult = { durationSec: body.durationSec, sizeBytes: body.sizeBytes, renditions: body.renditions.map((x) => x.name) };
} catch (err) {
  notMeasured.push(`finishing a 10-minute live: not measured (${(err as Error).message})`);
}
process.stderr.write(`[recording] 10-minute live finished in ${finishMs?.toFixed(0)} ms: ${JSON.stringify(longResult)}\n`);

await recorder.close();
await node.close();
plane.close();

// (3) Where a live's recording begins and ends: a live from /studio in Chromium, the whole stack.
const STUDIO_LIVE_SECONDS = 40;
const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).map(Number);
let studio: Record<string, unknown> | null = null;
try {
  const { startStack } = await import('../../web/test/stack');
  const { openBrowser } = await import('../../web/test/browser');
  const { recordFromStudio } = await import('../../web/test/recording-clock');
  let url = '';
  const [stack, browser] = await Promise.all([startStack({ media: true, recorder: {} }), openBrowser(() => url)]);
  url = stack.url;
  try {
    const loadBefore = await loadavg();
    const cpu0 = await machineCpu();
    const { bounds, endLiveToReadyMs } = await recordFromStudio(stack, browser, { handle: randomHandle('bench_rec'), liveSeconds: STUDIO_LIVE_SECONDS });
    const cpu1 = await machineCpu();
    studio = {
      liveSeconds: STUDIO_LIVE_SECONDS,
      hostFirstFrameToEndLiveSec: round(bounds.expectedSec),
      /** Worst rendition: host's first frame → its first recorded frame (ms). */
      firstRecordedFrameMs: Math.max(...bounds.renditions.map((b) => b.firstFrameMs)),
      /** Worst rendition: recording duration − (End Live − host's first frame) (s). */
      durationErrorSec: bounds.renditions.reduce((w, b) => (Math.abs(b.durationErrorSec) > Math.abs(w) ? b.durationErrorSec : w), 0),
      renditions: bounds.renditions,
      /** When each layer of the host's camera reached the node, from the host's first frame. */
      layers: bounds.layers,
      endLiveToReadyMs,
      loadAverageBefore: loadBefore,
      loadAverageAfter: await loadavg(),
      /** The whole machine's CPU busy over the live (all processes, both cores), percent. */
      machineCpuBusyPercent: round(((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * 100),
    };
    process.stderr.write(`[recording] studio live: ${JSON.stringify(studio)}\n`);
  } finally {
    await browser.close();
    await stack.stop();
  }
} catch (err) {
  notMeasured.push(`a live from /studio: not measured (${(err as Error).message})`);
}

/** Busy and total jiffies of the whole machine (/proc/stat). */
async function machineCpu(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - (fields[4] ?? 0), total };
}

await writeResult({
  name: 'recording',
  title: 'Recording',
  method: `(1) A MediaNode (one worker), the headless FilePublisher (H.264 simulcast 180p/360p/720p at 150/500/1500 kbit/s, 30 fps, + Opus) and the real Recorder (local storage, 30 s chunks) in this process; the live is recorded for ${RECORD_SECONDS} s; over a ${WINDOW_SECONDS} s window in the middle, the CPU of the recorder's FFmpeg processes (utime+stime from /proc, children of this process) per core. Then End Live = Recorder.stop(): FFmpeg flushes the chunk in progress, the last chunks and the closed playlists are uploaded — from then on the recording plays as HLS (VOD). (2) The finishing job alone on a 10-minute live: FFmpeg copies the same clip, looped, into 30 s fMP4 chunks per rendition (as the recorder uploads them: video copied, AAC), stored with a manifest; then finishRecording (download, join each rendition's chunks into one MP4 without re-encoding, ffprobe, thumbnail, report) is timed. End Live → all renditions ready ≈ stop + finishing. (3) Where a recording begins and ends (issue 19: ≤ 300 ms after the host's first frame, duration within 0.5 s of the live's): the whole stack (control plane, built web app, an in-process media node and the recorder, told by the control plane as the live starts) and Debian's Chromium; the host signs in, opens /studio with a camera that is a 1280x720 canvas repainted with Date.now() every 10 ms (web/test/recording-clock.ts), presses Go Live, ${STUDIO_LIVE_SECONDS} s later End Live and its confirmation (Date.now() at the confirmation = End Live); the node traces the host's video (first RTP packet of each layer, every key frame). Once the recording is ready, each rendition's MP4 is decoded with FFmpeg and the clock read from its first and last frames: first recorded frame − the host's first frame (the first frame the node accepted, back-dated by the paint → node delay of the first recorded key frame), and duration − (End Live − the host's first frame). Load: /proc/loadavg before and after, and the whole machine's CPU busy over the live (other work on the machine included).`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: {
    studio,
    live: recording,
    tenMinutes: longResult && finishMs !== null ? {
      ...longResult,
      preparedInSeconds: round(prepSeconds),
      finishMs: Math.round(finishMs),
      endLiveToPlayableMs: recording.stopMs,
      endLiveToAllRenditionsMs: Math.round(recording.stopMs + finishMs),
    } : null,
  },
});
process.exit(0);
