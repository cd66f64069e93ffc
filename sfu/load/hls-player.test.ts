import { spawn, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, watch, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHlsReport } from './hls-report';
import { runPlayers } from './hls-runner';
import { parseOptions } from './options';

/** Serves `root`'s files read-only, as storage serves the live HLS; counts what was asked. */
function staticServer(root: string): Promise<{ server: Server; url: string; requests: string[] }> {
  const requests: string[] = [];
  const types: Record<string, string> = { '.m3u8': 'application/vnd.apple.mpegurl', '.mp4': 'video/mp4', '.m4s': 'video/iso.segment' };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    requests.push(path);
    readFile(join(root, path)).then(
      (body) => res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, requests });
  }));
}

/** Segments listed in a media playlist. */
const listed = (text: string) => text.split('\n').filter((l) => l.startsWith('#EXTINF')).length;

/** Resolves once the playlist in `dir` lists `count` segments (FFmpeg renames each new one into place). */
async function untilListed(dir: string, count: number, timeoutMs: number): Promise<void> {
  const full = async () => listed(await readFile(join(dir, 'index.m3u8'), 'utf8').catch(() => '')) >= count;
  const changes = watch(dir, { signal: AbortSignal.timeout(timeoutMs) });
  if (await full()) return;
  try {
    for await (const change of changes) {
      if (change.filename === 'index.m3u8' && (await full())) return;
    }
  } catch (err) {
    throw new Error(`the playlist did not list ${count} segments in ${timeoutMs} ms (${(err as Error).message})`);
  }
}

describe('HLS players (podlive-load --hls)', () => {
  let root: string;
  let ffmpeg: ChildProcess;
  let ffmpegLog = '';
  let http: Awaited<ReturnType<typeof staticServer>>;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'podlive-hls-'));
    await mkdir(join(root, 'live'));
    // A live sliding fMP4 playlist like the recorder's low-latency HLS: ~1 s segments (a key frame
    // every 30 frames at 30 fps), a window of 6, program date times, a multivariant playlist.
    ffmpeg = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-nostdin', '-re',
      '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '30', '-keyint_min', '30', '-sc_threshold', '0', '-b:v', '300k',
      '-c:a', 'aac', '-b:a', '64k',
      '-f', 'hls', '-hls_time', '1', '-hls_list_size', '6', '-hls_segment_type', 'fmp4',
      '-hls_flags', 'delete_segments+program_date_time+independent_segments',
      '-master_pl_name', 'master.m3u8', join(root, 'live', 'index.m3u8'),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    ffmpeg.stderr?.on('data', (d: Buffer) => (ffmpegLog += d.toString()));
    http = await staticServer(root);
    // A full window: players start 3 segments behind the edge.
    await untilListed(join(root, 'live'), 6, 30_000);
  }, 40_000);

  afterAll(async () => {
    ffmpeg?.kill('SIGKILL');
    await new Promise<void>((resolve) => http?.server.close(() => resolve()) ?? resolve());
    await rm(root, { recursive: true, force: true });
  });

  it('players pick the variant, fetch the init segment once and every new segment, stay a few seconds behind the live edge, and do not stall', async () => {
    const o = parseOptions(['--hls', '--playlist', `${http.url}/live/master.m3u8`, '--viewers', '3', '--rate', '20', '--duration', '3', '--no-progress']);
    const run = await runPlayers(o, {
      // At least 3 new segments each after the start (~3 s of live), however slow the machine.
      beforeClose: async (players) => {
        await expect.poll(() => Math.min(...players.map((p) => p.segments)), { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(6);
      },
    });
    const report = buildHlsReport(o, run);
    expect(ffmpegLog).toBe('');
    expect(report.players).toEqual({ requested: 3, started: 3, failed: 0, playing: 3 });
    expect(report.errors).toEqual([]);
    expect(report.requests.inits).toBe(3);
    expect(report.requests.segments).toBeGreaterThanOrEqual(18);
    for (const player of run.players) {
      expect(player.variant?.url).toBe(`${http.url}/live/index.m3u8`);
      expect(player.variant?.bandwidth).toBeGreaterThan(0);
    }
    // Each segment once per player: no segment asked twice by one player.
    const segmentsAsked = http.requests.filter((p) => p.endsWith('.m4s'));
    expect(segmentsAsked.length).toBe(report.requests.segments);
    expect(new Set(segmentsAsked).size * 3).toBeGreaterThanOrEqual(segmentsAsked.length);
    expect(report.bytes).toBeGreaterThan(report.requests.segments * 10_000);
    // Started 3 target durations behind the edge: the playhead is a few seconds behind the PDT.
    expect(report.latencyMs.count).toBeGreaterThan(0);
    expect(report.latencyMs.p50).toBeGreaterThan(1000);
    expect(report.latencyMs.p95).toBeLessThan(10_000);
    expect(report.arrivalMs.count).toBe(report.requests.segments);
    expect(report.arrivalMs.p95).toBeLessThan(10_000);
    expect(report.stalls).toEqual({ count: 0, totalMs: 0, players: 0 });
    expect(report.requests.perSecond).toBeGreaterThan(0);
  }, 60_000);

  it('a player whose playlist stops updating plays out its buffer, then stalls and counts the time', async () => {
    // The live playlist as it is now, frozen: the same segments, never a new one, no ENDLIST.
    await mkdir(join(root, 'frozen'), { recursive: true });
    const text = await readFile(join(root, 'live', 'index.m3u8'), 'utf8');
    const files = text.split('\n').flatMap((l) => (l.startsWith('#EXT-X-MAP:') ? [/URI="([^"]+)"/.exec(l)?.[1] ?? ''] : l && !l.startsWith('#') ? [l] : []));
    await Promise.all(files.map((f) => copyFile(join(root, 'live', f), join(root, 'frozen', f))));
    await writeFile(join(root, 'frozen', 'index.m3u8'), text);
    const o = parseOptions(['--hls', '--playlist', `${http.url}/frozen/index.m3u8`, '--viewers', '1', '--duration', '0', '--no-progress']);
    const run = await runPlayers(o, {
      beforeClose: async (players) => {
        await expect.poll(() => players[0]?.stalls, { timeout: 20_000, interval: 200 }).toBe(1);
      },
    });
    const [player] = run.players;
    expect(player?.failure).toBeUndefined();
    expect(player?.startMs).toBeGreaterThan(0);
    // The segments from the live sync point (3 target durations behind the edge) to the edge.
    const target = Number(/#EXT-X-TARGETDURATION:(\d+)/.exec(text)?.[1]);
    expect(player?.segments).toBeGreaterThanOrEqual(Math.min(6, 3 * target));
    expect(player?.segments).toBeLessThanOrEqual(Math.min(6, 3 * target + 1));
    expect(player?.stalls).toBe(1);
    expect(player?.stallMs).toBeGreaterThan(0);
    expect(player?.playing).toBe(false);
    // Reloads that found nothing new: at half the target duration.
    expect(player?.unchanged).toBeGreaterThan(2);
    expect(player?.errors).toEqual({});
  }, 40_000);

  it('a player follows the live to EXT-X-ENDLIST: it stops reloading, plays out its buffer and ends without a stall', async () => {
    await mkdir(join(root, 'ending'), { recursive: true });
    const text = await readFile(join(root, 'live', 'index.m3u8'), 'utf8');
    const files = text.split('\n').flatMap((l) => (l.startsWith('#EXT-X-MAP:') ? [/URI="([^"]+)"/.exec(l)?.[1] ?? ''] : l && !l.startsWith('#') ? [l] : []));
    await Promise.all(files.map((f) => copyFile(join(root, 'live', f), join(root, 'ending', f))));
    await writeFile(join(root, 'ending', 'index.m3u8'), text);
    const o = parseOptions(['--hls', '--playlist', `${http.url}/ending/index.m3u8`, '--viewers', '1', '--duration', '0', '--no-progress']);
    const asked = () => http.requests.filter((p) => p === '/ending/index.m3u8').length;
    let askedBefore = 0;
    let askedAfter = 0;
    const run = await runPlayers(o, {
      beforeClose: async (players) => {
        await expect.poll(() => players[0]?.state, { timeout: 10_000 }).toBe('playing');
        // The live ends: the same window, closed.
        askedBefore = asked();
        await writeFile(join(root, 'ending', 'index.m3u8'), `${text.trimEnd()}\n#EXT-X-ENDLIST\n`);
        await expect.poll(() => players[0]?.state, { timeout: 20_000, interval: 200 }).toBe('ended');
        askedAfter = asked();
      },
    });
    const [player] = run.players;
    expect(player).toMatchObject({ ended: true, playing: true, stalls: 0, stallMs: 0, errors: {} });
    // The closed playlist was the last one asked for (one reload, two if one was on its way): a
    // player still reloading would have asked 2 per second during the ~3 s it played out.
    expect(askedAfter - askedBefore).toBeGreaterThanOrEqual(1);
    expect(askedAfter - askedBefore).toBeLessThanOrEqual(2);
  }, 40_000);

  it('a multivariant playlist that is not there fails its players with the reason, not the run', async () => {
    const o = parseOptions(['--hls', '--playlist', `${http.url}/nowhere/master.m3u8`, '--viewers', '2', '--duration', '0', '--no-progress']);
    const run = await runPlayers(o, {
      beforeClose: async (players) => {
        await expect.poll(() => players.every((p) => p.failed), { timeout: 10_000 }).toBe(true);
      },
    });
    const report = buildHlsReport(o, run);
    expect(report.players).toMatchObject({ requested: 2, started: 0, failed: 2, playing: 0 });
    expect(report.failures).toEqual([{ reason: 'playlist: HTTP 404', count: 2 }]);
  });
});
