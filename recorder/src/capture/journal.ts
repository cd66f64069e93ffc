import { createReadStream, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import ffmpeg from 'fluent-ffmpeg';
import { files, salvageArgs } from './ffmpeg-args';
import { sampleCount, topLevelBoxes, videoTrackId } from './fmp4';

/**
 * The journal: besides its HLS output, each FFmpeg run writes the same packets to a fragmented MP4
 * it flushes to disk every half second (ffmpeg-args.ts). FFmpeg's HLS muxer keeps the chunk in
 * progress in memory until the cut, so a killed FFmpeg would lose up to a whole chunk; the journal
 * holds all but the last half second of it.
 *
 * The salvage finds where the run's last complete chunk ended by counting video samples: both
 * outputs got the same video packets, and the journal starts a fragment at every key frame (every
 * cut is one), so the fragment after the first N video samples is where the chunk in progress
 * began. Those fragments, behind the journal's own init, are remuxed (`-c copy`) into one more
 * chunk with its own init segment, as a run of its own.
 */

export interface SalvageOptions {
  workDir: string;
  /** The dead run's journal. */
  journal: string;
  /** Video samples in the chunks the dead run completed. */
  videoSamplesBefore: number;
  /** The run number and chunk index the salvaged chunk gets. */
  run: number;
  index: number;
  ffmpegPath: string;
}

export interface SalvageResult {
  /** Video samples salvaged. */
  samples: number;
}

/** Writes `run-<run>.m3u8` listing the salvaged chunk; undefined when there is nothing to salvage. */
export async function salvageJournal(o: SalvageOptions): Promise<SalvageResult | undefined> {
  const boxes = await topLevelBoxes(o.journal, ['ftyp', 'moov', 'moof']);
  const ftyp = boxes.find((b) => b.type === 'ftyp')?.data;
  const moov = boxes.find((b) => b.type === 'moov')?.data;
  const track = moov && videoTrackId(moov);
  if (!ftyp || !moov || track === undefined) return undefined;
  let seen = 0;
  let from: number | undefined;
  let to = 0;
  let samples = 0;
  for (const [i, box] of boxes.entries()) {
    if (box.type !== 'moof') continue;
    const mdat = boxes[i + 1];
    // The last fragment, cut short by the kill: its moof without the media.
    if (mdat?.type !== 'mdat') break;
    const count = sampleCount(box.data!, track);
    if (from === undefined && seen === o.videoSamplesBefore) from = box.start;
    if (from !== undefined) {
      to = mdat.end;
      samples += count;
    }
    seen += count;
    // A fragment across the cut: the journal does not match the chunks (never seen; nothing to trust).
    if (from === undefined && seen > o.videoSamplesBefore) return undefined;
  }
  if (from === undefined || samples === 0) return undefined;
  const tail = join(o.workDir, files.salvage(o.run));
  const out = createWriteStream(tail);
  out.write(Buffer.concat([ftyp, moov]));
  await pipeline(createReadStream(o.journal, { start: from, end: to - 1 }), out);
  await new Promise<void>((resolve, reject) => {
    ffmpeg(tail, { cwd: o.workDir })
      .setFfmpegPath(o.ffmpegPath)
      .inputOptions(['-hide_banner', '-nostdin'])
      .outputOptions(salvageArgs({ run: o.run, startIndex: o.index }))
      .output(files.runPlaylist(o.run))
      .on('end', () => resolve())
      .on('error', (err: Error) => reject(err))
      .run();
  });
  return { samples };
}
