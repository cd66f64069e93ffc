import { open } from 'node:fs/promises';

/**
 * Just enough ISO BMFF (MP4) reading for the journal salvage (journal.ts): where the top-level
 * boxes of a fragmented MP4 lie, which track is the video, and how many video samples a fragment
 * holds. Four fields of four box types; everything else is FFmpeg's business. (mp4box.js 2.4.1 was
 * tried: it throws on the avcC FFmpeg writes and wants the whole file in memory.)
 */

export interface TopLevelBox {
  type: string;
  start: number;
  end: number;
  /** The whole box, for the types asked for. */
  data?: Buffer;
}

interface Box {
  type: string;
  /** Where the payload starts and the box ends, in the buffer. */
  body: number;
  end: number;
}

/** The boxes inside `data[start, end)`; a box running past `end` ends the list. */
function* children(data: Buffer, start: number, end: number): Generator<Box> {
  let offset = start;
  while (offset + 8 <= end) {
    let size = data.readUInt32BE(offset);
    let header = 8;
    if (size === 1) {
      if (offset + 16 > end) return;
      size = Number(data.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < header || offset + size > end) return;
    yield { type: data.toString('latin1', offset + 4, offset + 8), body: offset + header, end: offset + size };
    offset += size;
  }
}

function child(data: Buffer, parent: Box, type: string): Box | undefined {
  for (const box of children(data, parent.body, parent.end)) if (box.type === type) return box;
  return undefined;
}

function whole(data: Buffer, type: string): Box {
  const box = [...children(data, 0, data.length)][0];
  if (box?.type !== type) throw new Error(`expected a ${type} box, found ${box?.type ?? 'nothing'}`);
  return box;
}

/**
 * The complete top-level boxes of a file, in order, with the bytes of the types in `load`. A file
 * still being written, or cut short by a crash, ends with a partial box: it is left out.
 */
export async function topLevelBoxes(path: string, load: readonly string[] = []): Promise<TopLevelBox[]> {
  const file = await open(path, 'r');
  try {
    const { size: length } = await file.stat();
    const header = Buffer.alloc(16);
    const result: TopLevelBox[] = [];
    let offset = 0;
    while (offset + 8 <= length) {
      const { bytesRead } = await file.read(header, 0, 16, offset);
      let size = header.readUInt32BE(0);
      if (size === 1 && bytesRead >= 16) size = Number(header.readBigUInt64BE(8));
      else if (size === 0) size = length - offset;
      if (size < 8 || offset + size > length) break;
      const box: TopLevelBox = { type: header.toString('latin1', 4, 8), start: offset, end: offset + size };
      if (load.includes(box.type)) {
        box.data = Buffer.alloc(size);
        await file.read(box.data, 0, size, offset);
      }
      result.push(box);
      offset += size;
    }
    return result;
  } finally {
    await file.close();
  }
}

/** The track_ID of the moov's video track (handler `vide`), if it has one. */
export function videoTrackId(moov: Buffer): number | undefined {
  const root = whole(moov, 'moov');
  for (const trak of children(moov, root.body, root.end)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(moov, trak, 'mdia');
    const hdlr = mdia && child(moov, mdia, 'hdlr');
    // hdlr: version+flags (4), pre_defined (4), handler_type (4).
    if (!hdlr || moov.toString('latin1', hdlr.body + 8, hdlr.body + 12) !== 'vide') continue;
    const tkhd = child(moov, trak, 'tkhd');
    if (!tkhd) continue;
    // tkhd: version+flags, then creation and modification times (32 or 64 bits), then track_ID.
    return moov.readUInt32BE(tkhd.body + (moov[tkhd.body] === 1 ? 20 : 12));
  }
  return undefined;
}

/** Samples of one track in a moof: the sample_count of each trun of that track's traf. */
export function sampleCount(moof: Buffer, trackId: number): number {
  const root = whole(moof, 'moof');
  let count = 0;
  for (const traf of children(moof, root.body, root.end)) {
    if (traf.type !== 'traf') continue;
    const tfhd = child(moof, traf, 'tfhd');
    // tfhd: version+flags (4), track_ID (4). trun: version+flags (4), sample_count (4).
    if (!tfhd || moof.readUInt32BE(tfhd.body + 4) !== trackId) continue;
    for (const trun of children(moof, traf.body, traf.end)) if (trun.type === 'trun') count += moof.readUInt32BE(trun.body + 4);
  }
  return count;
}

/** Samples of one track in a whole fragmented file (a chunk, or a journal). */
export async function fileSampleCount(path: string, trackId: number): Promise<number> {
  const boxes = await topLevelBoxes(path, ['moof']);
  return boxes.reduce((n, box) => n + (box.data ? sampleCount(box.data, trackId) : 0), 0);
}
