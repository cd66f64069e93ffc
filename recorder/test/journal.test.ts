import { execFile } from 'node:child_process';
import { readFile, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileSampleCount, topLevelBoxes, videoTrackId } from '../src/capture/fmp4';
import { salvageJournal } from '../src/capture/journal';
import { parseMediaPlaylist } from '../src/capture/playlist';
import { ffprobe } from './helpers/media-files';

/**
 * The salvage on files FFmpeg wrote: a journal like a run's (4 s at 30 fps, a key frame every
 * second, fragments every 15 frames), whole and cut short as a kill leaves it.
 */

describe('journal salvage', () => {
  let dir: string;
  let journal: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podlive-journal-'));
    journal = join(dir, 'journal-0.mp4');
    await promisify(execFile)('ffmpeg', [
      '-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=320x180:r=30:d=4', '-f', 'lavfi', '-i', 'sine=f=440:sample_rate=48000:d=4',
      '-map', '0:v', '-map', '1:a', '-c:v', 'libx264', '-profile:v', 'baseline', '-g', '30', '-c:a', 'aac',
      '-f', 'mp4', '-movflags', '+frag_keyframe+empty_moov+delay_moov+default_base_moof', '-frag_duration', '500000', journal,
    ]);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  async function salvage(from: string, videoSamplesBefore: number, run: number) {
    const result = await salvageJournal({ workDir: dir, journal: from, videoSamplesBefore, run, index: 7, ffmpegPath: 'ffmpeg' });
    if (!result) return { result };
    const playlist = parseMediaPlaylist(await readFile(join(dir, `run-${run}.m3u8`), 'utf8'));
    const joined = join(dir, `joined-${run}.mp4`);
    await writeFile(joined, Buffer.concat([await readFile(join(dir, playlist.map!)), ...(await Promise.all(playlist.segments.map((s) => readFile(join(dir, s.uri)))))]));
    const probe = await ffprobe(joined);
    return { result, playlist, video: probe.packets.filter((p) => p.codec_type === 'video') };
  }

  it('reads the boxes, the video track and its samples', async () => {
    const boxes = await topLevelBoxes(journal, ['moov']);
    expect(boxes.slice(0, 4).map((b) => b.type)).toEqual(['ftyp', 'moov', 'moof', 'mdat']);
    expect(boxes.at(-1)!.end).toBe((await stat(journal)).size);
    expect(videoTrackId(boxes[1]!.data!)).toBe(1);
    expect(await fileSampleCount(journal, 1)).toBe(120);
    expect(await fileSampleCount(journal, 2), 'audio: 4 s of 1024-sample AAC frames').toBeGreaterThan(180);
  });

  it('salvages the fragments after the first N video samples as one chunk, numbered as asked', async () => {
    const { result, playlist, video } = await salvage(journal, 60, 1);
    expect(result).toEqual({ samples: 60 });
    expect(playlist!.map).toBe('init-1.mp4');
    expect(playlist!.segments.map((s) => s.uri)).toEqual(['seg-00007.m4s']);
    expect(playlist!.segments[0]!.durationSec).toBeCloseTo(2, 1);
    expect(video).toHaveLength(60);
    expect(video![0]!.flags).toMatch(/^K/);
  });

  it('leaves out the last fragment when the kill cut it short', async () => {
    const cut = join(dir, 'cut.mp4');
    await writeFile(cut, await readFile(journal));
    const last = (await topLevelBoxes(cut)).filter((b) => b.type === 'mdat').at(-1)!;
    await truncate(cut, last.start + 100);
    const { result, video } = await salvage(cut, 90, 2);
    expect(result).toEqual({ samples: 15 });
    expect(video).toHaveLength(15);
  });

  it('salvages nothing where the count does not fall on a fragment, or nothing follows it', async () => {
    expect((await salvage(journal, 50, 3)).result).toBeUndefined();
    expect((await salvage(journal, 120, 4)).result).toBeUndefined();
    expect((await salvage(join(dir, 'missing.mp4'), 0, 5).catch((err: Error) => err))).toBeInstanceOf(Error);
  });
});
