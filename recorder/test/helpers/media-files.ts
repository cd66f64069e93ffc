import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

/**
 * The top-level boxes of an MP4 file, checked to tile it exactly: a file cut short (a segment
 * handed over before FFmpeg finished it) has a last box running past the end and throws.
 */
export function topLevelBoxes(data: Buffer): string[] {
  const types: string[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (offset + 8 > data.length) throw new Error(`truncated box header at ${offset} of ${data.length}`);
    let size = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    if (size === 1) size = Number(data.readBigUInt64BE(offset + 8));
    if (size < 8) throw new Error(`bad size ${size} of box ${type} at ${offset}`);
    if (offset + size > data.length) throw new Error(`box ${type} at ${offset} runs to ${offset + size}, past the end (${data.length})`);
    types.push(type);
    offset += size;
  }
  return types;
}

export async function boxesOf(path: string): Promise<string[]> {
  return topLevelBoxes(await readFile(path));
}

export interface ProbeResult {
  streams: { codec_type: string; codec_name: string; width?: number; height?: number; sample_rate?: string; channels?: number }[];
  format: { duration?: string };
  packets: { codec_type: string; pts: number; dts: number; duration?: number; flags: string }[];
}

export async function ffprobe(path: string): Promise<ProbeResult> {
  const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-show_entries', 'packet=codec_type,pts,dts,duration,flags', '-of', 'json', path], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as ProbeResult;
}

/**
 * FFmpeg decodes the whole file: the error lines it printed (none for a clean file).
 *
 * The decoded frames keep the file's own timestamps (`-enc_time_base -1`: the stream's 1/90000).
 * By default FFmpeg would re-time them for the null muxer onto a grid of the guessed frame rate
 * (1/30 s) and reject two frames rounded onto the same tick ("non monotonically increasing dts to
 * muxer ... 14 >= 14"), then stop decoding. Live RTP timestamps are not on such a grid: FFmpeg's
 * RTP demuxer re-anchors each stream on every RTCP sender report (A/V sync), which moves the
 * video by a few ms, more on a loaded machine; and the video starts 21 ms (AAC priming) after the
 * audio, 0.63 frame off the grid, so a step back of 4.3 ms already collided. Frames that truly
 * share a timestamp still fail here, as they should.
 */
export async function decodeErrors(path: string): Promise<string[]> {
  const { stderr } = await promisify(execFile)('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', path, '-fps_mode', 'passthrough', '-enc_time_base', '-1', '-f', 'null', '-']);
  return stderr.split('\n').filter((l) => l.trim());
}

/** CPU time (user + system) a process has used, in seconds (Linux). */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command name: state is field 3, utime 14 and stime 15 (1-based), in clock ticks (100/s).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
