import { execFile } from 'node:child_process';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingKeys, type Recording, type RenditionId } from '@podlive/shared/recording';
import { startS3rverProcess, type S3rverProcess } from '../../storage/test/s3rver-process';
import { signIn, startStack, type Stack } from './stack';
import { openBrowser, type BrowserHarness } from './browser';
import { goLiveFromStudio } from './studio';

const LIVE_SECONDS = 95;

interface Probe {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; avg_frame_rate?: string }[];
  packets?: { pts_time: string; stream_index: number }[];
  frames?: { height?: number }[];
}
const ffprobe = async (file: string, ...args: string[]) =>
  JSON.parse((await promisify(execFile)('ffprobe', ['-v', 'error', '-of', 'json', '-show_streams', ...args, file], { maxBuffer: 64 * 1024 * 1024 })).stdout) as Probe;

/**
 * The whole recording path with a real browser host: Chromium publishes simulcast from /studio to
 * a real SFU node; the real recorder (in this process) captures the origin into 30 s chunks in
 * storage; End Live → the finishing job → the recording on the host's profile, and the host told.
 */
describe.each([
  ['the local storage directory', false],
  ['S3 (s3rver)', true],
] as const)('a 95 s live is recorded into %s', (_where, s3) => {
  let stack: Stack;
  let browser: BrowserHarness;
  let bucket: S3rverProcess | undefined;

  beforeAll(async () => {
    bucket = s3 ? await startS3rverProcess('recordings') : undefined;
    const serverEnv: Record<string, string> = bucket ? { AWS_S3_BUCKET: 'recordings', AWS_ENDPOINT_URL_S3: bucket.endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } : {};
    [stack, browser] = await Promise.all([startStack({ media: true, recorder: {}, serverEnv }), openBrowser(() => stack.url)]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await bucket?.close();
  });

  const signedInHost = async (handle: string) => {
    const page = await browser.newPage();
    await signIn(stack, page, { handle, displayName: `Host ${handle}`, path: '/studio' });
    return page;
  };

  it('chunks land during the live; after End Live the recording is ready within 10 s, complete, and the host is told', { timeout: 240_000 }, async () => {
    const handle = s3 ? 'rec_s3' : 'rec_local';
    const host = await signedInHost(handle);
    const id = await goLiveFromStudio(host, `Recorded live ${handle}`);
    const wentLive = Date.now();
    const storage = stack.recorder!.storage;
    const keys = recordingKeys(id);

    // Live: the recorder follows the host's simulcast; chunks are uploaded as they complete.
    const live = await stack.recorder!.recording(id);
    expect(live, 'the recorder records the live').toBeDefined();
    await new Promise((r) => setTimeout(r, Math.max(0, wentLive + LIVE_SECONDS * 1000 - Date.now())));
    const renditions = Object.entries(live!.manifest.renditions) as [RenditionId, { segments: unknown[] }][];
    expect(renditions.length).toBeGreaterThanOrEqual(1);
    for (const [r, { segments }] of renditions) {
      expect(segments.length, `chunks of ${r} before the end`).toBeGreaterThanOrEqual(3);
      const first = await storage.get(keys.segment(r, 0));
      expect((await buffer(first!.body)).length, `the first chunk of ${r} in storage`).toBeGreaterThan(10_000);
    }
    const session = (await (await fetch(`${stack.url}/api/live/${id}`)).json()) as { hlsUrl: string | null };
    expect(session.hlsUrl).toMatch(/master\.m3u8$/);

    // End Live asks first.
    await host.getByRole('button', { name: 'End Live' }).click();
    await host.getByRole('dialog').getByRole('button', { name: 'End Live' }).click();
    const ended = Date.now();
    const liveSeconds = (ended - wentLive) / 1000;
    let recording: Recording | undefined;
    await expect.poll(async () => {
      const page = (await (await fetch(`${stack.url}/api/users/${handle}/recordings`)).json()) as { items: Recording[] };
      recording = page.items.find((x) => x.sessionId === id && x.status === 'ready');
      return recording !== undefined;
    }, { timeout: 10_000, interval: 200 }).toBe(true);
    const readyAfterMs = Date.now() - ended;
    console.info(`[recording] ${handle}: live ${liveSeconds.toFixed(1)} s, ready ${readyAfterMs} ms after End Live, duration ${recording!.durationSec} s, renditions ${recording!.renditions.map((x) => x.name).join(' ')}`);
    // durationSec is whole seconds and liveSeconds is timed around the page's clicks: ± 1 s plus rounding.
    expect(Math.abs(recording!.durationSec! - liveSeconds)).toBeLessThanOrEqual(1.5);
    // The test camera is an HD webcam: the ladder's 720p and 480p layers (Chromium's encoder keeps
    // widths even: 1280 / 1.5 → 852), each a rendition named by its largest picture. On a loaded
    // machine Chromium may send the top layer at the lower size for a while (a CI run's began at
    // 852x480): a rendition is then the size it was sent, and never two under one name.
    const names = recording!.renditions.map((x) => x.name);
    expect(new Set(names).size, 'one rendition per name').toBe(names.length);
    for (const x of recording!.renditions) {
      expect(x.name).toBe(`${x.height}p`);
      expect(x.height, `${x.name}: at most the camera's size`).toBeLessThanOrEqual(720);
      expect(Math.abs(x.width / x.height - 16 / 9), `${x.name} ${x.width}x${x.height}: the camera's shape`).toBeLessThan(0.02);
    }
    expect(recording!.renditions.length, 'both layers, unless one was the other\'s size').toBeGreaterThanOrEqual(names.includes('720p') ? 2 : 1);
    expect(recording!.renditions[0]!.height, 'the best rendition first').toBe(Math.max(...recording!.renditions.map((x) => x.height)));
    // The host was told, on the page they are on.
    await host.getByText('Your recording is ready').waitFor({ timeout: 10_000 });

    // Each rendition: H.264 at its height and AAC, no video frame missing.
    const row = recording!;
    const dir = await mkdtemp(join(tmpdir(), 'podlive-recording-e2e-'));
    for (const rendition of row.renditions) {
      const file = join(dir, `${rendition.name}.mp4`);
      const key = `${keys.root}/vod/${rendition.name}.mp4`;
      await writeFile(file, await buffer((await storage.get(key))!.body));
      const probe = await ffprobe(file, '-select_streams', 'v', '-show_packets', '-show_entries', 'packet=pts_time');
      const video = probe.streams.find((s) => s.codec_type === 'video');
      expect(video?.codec_name).toBe('h264');
      // Its first picture, or one near its end if the layer grew (the frames FFmpeg decodes there).
      const end = await ffprobe(file, '-select_streams', 'v', '-read_intervals', `${Math.max(0, recording!.durationSec! - 3)}%+#5`, '-show_frames', '-show_entries', 'frame=height');
      expect([video?.height, end.frames?.at(-1)?.height], `${rendition.name}: the first picture's height, then one near the end`).toContain(rendition.height);
      const audio = await ffprobe(file, '-select_streams', 'a');
      expect(audio.streams.map((s) => s.codec_name)).toEqual(['aac']);
      const pts = (probe.packets ?? []).map((p) => Number(p.pts_time)).sort((a, b) => a - b);
      const steps = pts.slice(1).map((t, i) => ({ at: pts[i]!, step: t - pts[i]! }));
      const typical = [...steps].sort((a, b) => a.step - b.step)[Math.floor(steps.length / 2)]!.step;
      // The browser enables its simulcast layers one by one as its bandwidth estimate grows: a
      // layer may start a little after the others (seen: 0.45 s), so the first 2 s are left out here.
      const worst = steps.filter((s) => s.at > pts[0]! + 2).reduce((w, s) => (s.step > w.step ? s : w));
      // Where chunks meet (and where the recording starts and ends) is what the recorder controls:
      // no frame may be missing there. Elsewhere the browser's encoder may skip frames under load.
      // Which layer it was: the one whose chunks add up closest to the MP4's size (the layers
      // differ twofold; their first pictures can be the same size).
      const size = (await stat(file)).size;
      const bytes = (x: { segments: { bytes: number }[] }) => x.segments.reduce((n, s) => n + s.bytes, 0);
      const [r] = (Object.entries(live!.manifest.renditions) as [RenditionId, { segments: { bytes: number }[] }][])
        .reduce((a, b) => (Math.abs(bytes(b[1]) - size) < Math.abs(bytes(a[1]) - size) ? b : a));
      const segments = live!.manifest.renditions[r]?.segments ?? [];
      const joins = segments.slice(0, -1).map((_, i) => segments.slice(0, i + 1).reduce((n, x) => n + x.durationSec, 0));
      const atJoins = joins.map((b) => steps.find((s) => s.at <= b + pts[0]! + 0.001 && s.at + s.step >= b + pts[0]! - 0.001)?.step ?? 0);
      console.info(`[recording] ${rendition.name}: ${pts.length} frames, typical step ${(typical * 1000).toFixed(1)} ms, worst ${(worst.step * 1000).toFixed(1)} ms at ${worst.at.toFixed(2)} s; steps where chunks meet (${joins.map((b) => b.toFixed(1)).join(', ')} s): ${atJoins.map((x) => (x * 1000).toFixed(0)).join(', ')} ms`);
      // Each join is cut at a key frame the recorder asks the host for, and under load the
      // browser's encoder skips a frame or two around a key frame (its rate control): loaded CI
      // runs saw 81 and 103 ms at joins against 50 ms typical, and 110-117 ms steps 0.2-0.3 s from
      // a join, mid-chunk. What the recorder could lose at a cut (a GOP, the time to switch files)
      // is far longer: a step of 3 typical ones is the bound.
      for (const step of atJoins) expect(step, `frames missing where chunks of ${rendition.name} meet`).toBeLessThan(typical * 3);
      expect(worst.step, `the longest gap between frames of ${rendition.name}`).toBeLessThan(0.5);
    }
    const thumbnail = await storage.get(keys.thumbnail);
    expect((await buffer(thumbnail!.body)).subarray(0, 2).toString('hex')).toBe('ffd8');
  });
});
