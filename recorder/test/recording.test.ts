import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '@podlive/sfu';
import { loadConfig as sfuConfig } from '@podlive/sfu/config';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { recordingKeys } from '@podlive/shared/recording';
import { FilePublisher } from '../../sfu/load/file-publisher';
import { loadConfig, type RecorderConfig } from '../src/config';
import { Recorder } from '../src/Recorder';
import { readManifest } from '../src/live/manifest';
import { controlPlane, KEYS, reportToken, startBody, until } from './helpers/control-plane';
import { scrape } from './helpers/metrics';

const CHUNK_SECONDS = 2;
const METRICS_TOKEN = 'scrape-secret';

const ffprobe = async (path: string) => JSON.parse((await promisify(execFile)('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', path])).stdout) as {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number }[];
  format: { duration: string };
};

describe('recording a live: chunks while it runs, an MP4 per simulcast layer when it ends', () => {
  let node: MediaNode;
  let publisher: FilePublisher;
  let recorder: Recorder;
  let plane: Awaited<ReturnType<typeof controlPlane>>;
  let config: RecorderConfig;
  const sessionId = randomUUID();
  const hostId = randomUUID();

  beforeAll(async () => {
    plane = await controlPlane();
    node = await MediaNode.start(sfuConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'rec-node', MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, RTC_PORT_BASE: String(await freeRtcPortBase(1)) }));
    publisher = await FilePublisher.start({ node, session: sessionId, key: KEYS.privateKey, userId: hostId });
    const dataDir = await mkdtemp(join(tmpdir(), 'podlive-recorder-'));
    config = loadConfig({ DATA_DIR: dataDir, MEDIA_TOKEN_PUBLIC_KEY: KEYS.publicPem, SERVER_URL: plane.url, RECORDER_CHUNK_SECONDS: String(CHUNK_SECONDS), METRICS_TOKEN });
    recorder = await Recorder.create(config);
  }, 60_000);

  afterAll(async () => {
    await recorder?.close();
    publisher?.close();
    await node?.close();
    plane?.server.close();
  });

  it('uploads chunks of every rendition during the live, then finishes it into MP4s, a thumbnail and the result', { timeout: 90_000 }, async () => {
    const startedAt = Date.now();
    await recorder.start(await startBody(sessionId, hostId, { id: 'rec-node', url: node.url }));
    const live = await until(() => recorder.recording(sessionId), 'the recording', 5000);
    const recording = await live;
    expect(recording).toBeDefined();
    // Three simulcast layers → three renditions, each with ≥ 3 chunks in storage while the live runs.
    const keys = recordingKeys(sessionId);
    await until(() => {
      const r = recording!.manifest.renditions;
      return ['r0', 'r1', 'r2'].every((id) => (r[id as 'r0']?.segments.length ?? 0) >= 3) ? true : undefined;
    }, '3 chunks per rendition', 30_000);
    for (const r of ['r0', 'r1', 'r2'] as const) {
      const chunk = await recorder.storage.get(keys.segment(r, 0));
      expect((await buffer(chunk!.body)).length, `first chunk of ${r}`).toBeGreaterThan(1000);
      const playlist = await recorder.storage.get(keys.livePlaylist(r));
      expect((await buffer(playlist!.body)).toString()).toMatch(/#EXT-X-MAP:URI="init-0.mp4"[\s\S]*seg-00000.m4s/);
    }
    const master = await recorder.storage.get(keys.liveMaster);
    expect((await buffer(master!.body)).toString()).toMatch(/RESOLUTION=1280x720[\s\S]*RESOLUTION=640x360[\s\S]*RESOLUTION=320x180/);

    // Its /metrics while the live runs: only with the bearer token; one live, three renditions each
    // fed the layer and the host's mic, the chunks in storage counted (the manifest lists a chunk after its upload).
    expect((await scrape(recorder.metricsAddress)).status).toBe(401);
    expect((await scrape(recorder.metricsAddress, 'wrong')).status).toBe(401);
    const during = await scrape(recorder.metricsAddress, METRICS_TOKEN);
    expect(during.status).toBe(200);
    expect(during.value('podlive_recorder_lives')).toBe(1);
    expect(during.value('podlive_recorder_renditions')).toBe(3);
    expect(during.value('podlive_recorder_consumers')).toBe(6);
    expect(during.value('podlive_recorder_chunks_uploaded_total{rendition="r2"}')).toBeGreaterThanOrEqual(3);
    expect(during.sum('podlive_recorder_chunks_uploaded_total')).toBeGreaterThanOrEqual(9);
    expect(during.sum('podlive_recorder_chunk_upload_failures_total')).toBe(0);
    expect(during.sum('podlive_recorder_bytes_written_total')).toBeGreaterThan(9 * 1000);
    expect(during.value('podlive_recorder_ffmpeg_restarts_total{rendition="r0"}')).toBeDefined();
    expect(during.value('podlive_recorder_upload_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(during.value('podlive_recorder_upload_lag_seconds')).toBeLessThan(30);
    expect(during.value('podlive_recorder_finish_jobs{state="queued"}')).toBe(0);

    const recordedSec = (Date.now() - startedAt) / 1000;
    await recorder.stop(sessionId, await reportToken(sessionId));
    // Once uploaded, the local chunks, playlists and journals are gone.
    expect(await readdir(join(config.RECORDER_WORK_DIR, sessionId), { recursive: true }).then((names) => names.filter((n) => /\.(m4s|mp4|m3u8)$/.test(n)))).toEqual([]);
    const result = await until(() => plane.finished.get(sessionId), 'the finished recording at the control plane', 60_000);
    expect(result.status).toBe('ready');
    expect(result.renditions.map((r) => `${r.name} ${r.width}x${r.height}`)).toEqual(['720p 1280x720', '360p 640x360', '180p 320x180']);
    // Everything from the first key frame to the stop: within a couple of seconds of the wall time.
    expect(result.durationSec).toBeGreaterThan(recordedSec - 3);
    expect(result.durationSec).toBeLessThanOrEqual(Math.ceil(recordedSec) + 1);
    expect(plane.refused).toBe(0);
    // The job counted once it is done with (just after its report); nothing left recording or waiting.
    const after = await until(async () => {
      const m = await scrape(recorder.metricsAddress, METRICS_TOKEN);
      return (m.value('podlive_recorder_finish_jobs_total{result="ok"}') ?? 0) >= 1 ? m : undefined;
    }, 'the finishing job counted', 10_000);
    expect(after.value('podlive_recorder_finish_jobs_total{result="failed"}')).toBe(0);
    expect(after.value('podlive_recorder_finish_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(after.value('podlive_recorder_finish_jobs{state="running"}')).toBe(0);
    expect([after.value('podlive_recorder_lives'), after.value('podlive_recorder_renditions'), after.value('podlive_recorder_consumers')]).toEqual([0, 0, 0]);
    expect(after.value('podlive_recorder_upload_lag_seconds')).toBe(0);
    expect(after.sum('podlive_recorder_chunks_uploaded_total')).toBeGreaterThan(during.sum('podlive_recorder_chunks_uploaded_total')!);

    const dir = await mkdtemp(join(tmpdir(), 'podlive-recorder-check-'));
    for (const r of result.renditions) {
      const file = join(dir, `${r.name}.mp4`);
      await writeFile(file, await buffer((await recorder.storage.get(r.key))!.body));
      const info = await ffprobe(file);
      expect(info.streams.map((s) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
      expect(info.streams.find((s) => s.codec_type === 'video')?.height).toBe(r.height);
    }
    const thumbnail = await recorder.storage.get(result.thumbnailKey!);
    const jpeg = await buffer(thumbnail!.body);
    expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
  });

  it('a recorder killed mid-live is resumed by the next one: numbering goes on, nothing uploaded is lost, the job finishes', { timeout: 90_000 }, async () => {
    const sid = randomUUID();
    const host = randomUUID();
    const second = await FilePublisher.start({ node, session: sid, key: KEYS.privateKey, userId: host, layers: 1 });
    try {
      await recorder.start(await startBody(sid, host, { id: 'rec-node', url: node.url }));
      const first = await (await until(() => recorder.recording(sid), 'the recording', 5000));
      await until(() => ((first!.manifest.renditions.r0?.segments.length ?? 0) >= 2 ? true : undefined), '2 chunks', 30_000);
      // Down without flushing, as a crash would (FFmpeg killed, the chunk in progress lost).
      await recorder.close();
      const before = (await readManifest(recorder.storage, sid))!.renditions.r0!.segments;
      recorder = await Recorder.create(config);
      const resumed = await (await until(() => recorder.recording(sid), 'the resumed recording', 5000));
      await until(() => ((resumed!.manifest.renditions.r0?.segments.length ?? 0) >= before.length + 2 ? true : undefined), '2 more chunks', 30_000);
      const segments = resumed!.manifest.renditions.r0!.segments;
      expect(segments.slice(0, before.length)).toEqual(before);
      expect(segments.map((x) => x.index)).toEqual(segments.map((_, i) => i));
      expect(new Set(segments.map((x) => x.run)).size).toBe(2);
      await recorder.stop(sid, await reportToken(sid));
      const result = await until(() => plane.finished.get(sid), 'the finished recording', 60_000);
      const recorded = segments.reduce((n, x) => n + x.durationSec, 0);
      expect(result.durationSec).toBeGreaterThanOrEqual(Math.floor(recorded));
    } finally {
      second.close();
    }
  });

  it('a guest who joins and leaves mid-live is heard in the recording, only while on stage', { timeout: 90_000 }, async () => {
    const sid = randomUUID();
    const host = randomUUID();
    const hostPub = await FilePublisher.start({ node, session: sid, key: KEYS.privateKey, userId: host, layers: 1 });
    let guest: FilePublisher | undefined;
    try {
      await recorder.start(await startBody(sid, host, { id: 'rec-node', url: node.url }));
      const live = await (await until(() => recorder.recording(sid), 'the recording', 5000));
      const chunks = () => live!.manifest.renditions.r0?.segments.length ?? 0;
      await until(() => (chunks() >= 2 ? true : undefined), '2 chunks with the host alone', 30_000);
      // The guest's voice is a 2 kHz tone, the host's 440 Hz: a band-pass tells them apart.
      guest = await FilePublisher.start({ node, session: sid, key: KEYS.privateKey, userId: randomUUID(), layers: 1, toneHz: 2000 });
      const joined = chunks();
      await until(() => (chunks() >= joined + 3 ? true : undefined), '3 chunks with the guest', 30_000);
      guest.close();
      guest = undefined;
      const left = chunks();
      await until(() => (chunks() >= left + 5 ? true : undefined), '5 chunks after the guest left', 30_000);
      const segments = [...live!.manifest.renditions.r0!.segments];
      await recorder.stop(sid, await reportToken(sid));
      const result = await until(() => plane.finished.get(sid), 'the finished recording', 60_000);

      // Runs: host alone, with the guest, alone again (a new run when the voices change).
      const runs = [...new Set(segments.map((x) => x.run))];
      expect(runs).toHaveLength(3);
      const spans: [number, number][] = [];
      let t = 0;
      for (const run of runs) {
        const length = segments.filter((x) => x.run === run).reduce((n, x) => n + x.durationSec, 0);
        spans.push([t, t + length]);
        t += length;
      }
      const file = join(await mkdtemp(join(tmpdir(), 'podlive-recorder-guest-')), 'r.mp4');
      await writeFile(file, await buffer((await recorder.storage.get(result.renditions[0]!.key))!.body));
      /** Mean level (dB) of the 2 kHz band over the middle of a span. */
      const guestBand = async ([from, to]: [number, number]) => {
        const { stderr } = await promisify(execFile)('ffmpeg', ['-hide_banner', '-ss', String(from + 1), '-t', String(Math.max(0.5, to - from - 2)), '-i', file, '-af', 'bandpass=f=2000:width_type=h:w=300,volumedetect', '-f', 'null', '-']);
        return Number(/mean_volume: (-?[\d.]+) dB/.exec(stderr)?.[1]);
      };
      // After the guest left: the last seconds of the recording, well clear of the run boundary.
      const end = spans.at(-1)![1];
      const [before, during, after] = await Promise.all([guestBand(spans[0]!), guestBand(spans[1]!), guestBand([end - 5, end])]);
      console.info(`[recording] 2 kHz band: host alone ${before} dB, with the guest ${during} dB, after ${after} dB`);
      expect(during).toBeGreaterThan(before! + 20);
      expect(during).toBeGreaterThan(after! + 20);
    } finally {
      guest?.close();
      hostPub.close();
    }
  });
});
