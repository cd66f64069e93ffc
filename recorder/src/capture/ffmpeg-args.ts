/**
 * The FFmpeg command line of one rendition run (FFmpeg 5.1), each flag with why it is there.
 * Measured with a test source that, like Chromium, sends key frames only when asked (see
 * test/capture.test.ts): start-up from spawn to writing is ~0.3–0.5 s once a key frame arrives.
 */

/** File names inside a rendition's work directory; the same names as the storage keys (shared/recording). */
export const files = {
  sdp: 'input.sdp',
  /** FFmpeg's own playlist of one run: only what that run wrote. */
  runPlaylist: (run: number) => `run-${run}.m3u8`,
  /** Each run writes its own init segment: a restarted FFmpeg may describe the stream differently. */
  init: (run: number) => `init-${run}.mp4`,
  /** `%05d` is FFmpeg's pattern for `seg-00042.m4s`; numbering continues across runs (`-start_number`). */
  segmentPattern: 'seg-%05d.m4s',
  segment: (index: number) => `seg-${String(index).padStart(5, '0')}.m4s`,
  /** What a run also writes, flushed every half second, for a salvage if it dies (journal.ts). */
  journal: (run: number) => `journal-${run}.mp4`,
  /** The journal's tail after a run died: the salvage run's input. */
  salvage: (run: number) => `salvage-${run}.mp4`,
} as const;

export const SEGMENT_NAME = /^seg-(\d+)\.m4s$/;

/**
 * The live low-latency HLS a run also writes (LIVE_HLS_SEGMENT_SECONDS segments, sliding): the
 * rendition's video with the programme audio in `ll/video/`, and the audio alone in `ll/audio/`
 * (one rendition's run writes it). Numbered per run from 0; live/live-hls.ts uploads them under
 * names that are never used twice.
 */
export const liveFiles = {
  dir: (track: 'video' | 'audio') => `ll/${track}`,
  playlist: (track: 'video' | 'audio', run: number) => `ll/${track}/run-${run}.m3u8`,
  /** FFmpeg puts the init segment beside the playlist: the name is relative to it. */
  initName: (run: number) => `init-${run}.mp4`,
  segmentPattern: (track: 'video' | 'audio', run: number) => `ll/${track}/${run}-%05d.m4s`,
} as const;
export const LIVE_SEGMENT_NAME = /^(\d+)-(\d+)\.m4s$/;

export interface LiveHlsArgs {
  segmentSeconds: number;
  /** Segments FFmpeg keeps listed (the uploader reads each new one as soon as it is listed). */
  listSize: number;
  /** Also the audio alone. */
  audio: boolean;
}

export interface RunArgsOptions {
  run: number;
  /** Number of this run's first segment. */
  startIndex: number;
  segmentSeconds: number;
  audioBitrateKbps: number;
  /** Audio streams in the SDP: the host's mic first, then guests' (mixed into one programme track). */
  audioInputs?: number;
  /** The live low-latency HLS outputs, if this rendition writes them. */
  liveHls?: LiveHlsArgs;
}

/** How to map the audio: the one stream as it is, or every stream mixed into `[programme]`. */
function audioMapping(inputs: number): string[] {
  if (inputs <= 1) return ['-map', '0:a:0?'];
  const labels = Array.from({ length: inputs }, (_, i) => `[0:a:${i}]`).join('');
  // normalize=0: each voice keeps its level (amix would otherwise scale every input by 1/n).
  // duration=longest: a guest who stops sending does not end the programme.
  return ['-filter_complex', `${labels}amix=inputs=${inputs}:duration=longest:normalize=0[programme]`, '-map', '[programme]'];
}

/**
 * The setts expressions of the video (commas escaped for FFmpeg's bitstream filter list).
 *
 * The first frame of every run reaches the filter without a PTS: FFmpeg 5.1's H.264 parser, which
 * assembles frames from the RTP demuxer's NAL units, cannot look up the timestamp of its very first
 * frame (its packets have no byte position). `dts=PTS` gave that frame no DTS and a duration of
 * NEXT_PTS - NOPTS (an overflow: "Packet with invalid duration", "Timestamps are unset", the
 * muxer then making timestamps up, which FFmpeg warns will stop working). Worse, the DTS FFmpeg
 * invents for it is the start of the input's timeline, and with the first frame's PTS unknown that
 * start is the second frame's PTS unless another stream's first packet sets it earlier: with video
 * only always, with audio when FFmpeg had read none yet (seen once in ~40 runs on a loaded
 * machine). The key frame and the next frame then shared a timestamp: two video samples at DTS 0
 * in the run's first segment. Such a frame is placed one frame (at 30 fps: the rate is unknown)
 * before the next, which it precedes in any case.
 */
export const VIDEO_TIMESTAMPS = {
  ts: 'if(eq(PTS\\,NOPTS)\\,if(eq(NEXT_PTS\\,NOPTS)\\,DTS\\,NEXT_PTS-1/(30*TB))\\,PTS)',
  duration: 'if(eq(NEXT_PTS\\,NOPTS)\\,PREV_OUTDURATION\\,if(eq(PTS\\,NOPTS)\\,1/(30*TB)\\,NEXT_PTS-PTS))',
} as const;

/** Options before `-i <sdp>`. */
export function inputArgs(): string[] {
  return [
    '-hide_banner',
    // FFmpeg's interactive commands read stdin; it must never wait on it or react to it.
    '-nostdin',
    // `info` prints "Stream mapping" (input probed: the run has started) and the progress lines
    // whose `time=` drives key frame requests; fluent-ffmpeg reads both from stderr.
    '-loglevel', 'info',
    // The sdp demuxer opens rtp:// and udp:// URLs, which a file input may not do by default.
    '-protocol_whitelist', 'file,udp,rtp',
    // Without it FFmpeg probes 20 frames to guess a frame rate (~0.7 s at 30 fps) that nothing here
    // uses: timestamps come from RTP and durations from the setts filter below. What remains of the
    // probe is the SPS (from the first key frame) and 7 decoded frames (h264's reorder guess).
    '-fpsprobesize', '0',
    // UDP receive buffer (capped by net.core.rmem_max): a 720p key frame arrives as a burst of
    // ~100 packets, and FFmpeg may be descheduled for a while on a busy machine.
    '-buffer_size', String(2 * 1024 * 1024),
  ];
}

/**
 * The HLS muxer's options, for a run and for a salvage. Paths are relative: FFmpeg runs in the
 * work directory, and the tee muxer's option syntax would need any `:` or `|` in a path escaped.
 */
function hlsOptions(o: { run: number; startIndex: number; segmentSeconds: number }): [string, string][] {
  return [
    ['hls_segment_type', 'fmp4'],
    // Segments are cut at the first key frame at or after each multiple of hls_time (counted from
    // the run's first packet); the Rendition asks the host for that key frame.
    ['hls_time', String(o.segmentSeconds)],
    // EVENT: segments are only appended, never removed from FFmpeg's playlist.
    ['hls_playlist_type', 'event'],
    // temp_file: segments and the playlist are written as `.tmp` and renamed when complete, so a
    // segment listed in the playlist is whole. independent_segments: each starts with a key frame.
    ['hls_flags', 'temp_file+independent_segments'],
    ['hls_fmp4_init_filename', files.init(o.run)],
    ['hls_segment_filename', files.segmentPattern],
    ['start_number', String(o.startIndex)],
  ];
}

/**
 * The journal (journal.ts): the same packets as a fragmented MP4, a fragment at every key frame
 * (so every cut of the HLS output starts one) and at least every 500 ms, each written through
 * (flush_packets) so that a killed FFmpeg leaves it on disk. delay_moov: the moov needs the H.264
 * parameter sets, which come with the first key frame, not from the SDP. onfail=ignore: a journal
 * that cannot be written must not stop the recording.
 */
const JOURNAL_OPTIONS: [string, string][] = [
  ['f', 'mp4'],
  ['onfail', 'ignore'],
  ['movflags', '+frag_keyframe+empty_moov+delay_moov+default_base_moof'],
  ['frag_duration', '500000'],
  ['flush_packets', '1'],
];

const teeSlave = (options: [string, string][], target: string) => `[${options.map(([k, v]) => `${k}=${v}`).join(':')}]${target}`;

/** Options after the input; the output is outputTarget(). */
export function outputArgs(o: RunArgsOptions): string[] {
  return [
    // One video stream; audio when the SDP has one (guests' voices mixed in: an encode, but audio is
    // transcoded to AAC anyway).
    '-map', '0:v:0', ...audioMapping(o.audioInputs ?? 1),
    // The host's H.264 as it is: no re-encode.
    '-c:v', 'copy',
    // RTP gives H.264 a PTS but no DTS; for a copied stream FFmpeg then invents DTS by counting
    // frames at the probed frame rate, which drifts from the PTS as soon as the browser's frame rate
    // varies (and fails outright without a probed rate). Constrained baseline has no B-frames, so
    // DTS = PTS (`ts` sets both). Durations: the distance to the next frame; without one the last
    // sample of every fragment had duration 0 and the next segment's first frame landed one frame
    // early. See VIDEO_TIMESTAMPS for the first frame of a run, which comes without a PTS.
    '-bsf:v', `setts=ts=${VIDEO_TIMESTAMPS.ts}:duration=${VIDEO_TIMESTAMPS.duration}`,
    // Opus is not playable from fMP4 HLS by most players: AAC-LC (FFmpeg's native encoder).
    '-c:a', 'aac', '-b:a', `${o.audioBitrateKbps}k`,
    // Two outputs of the same packets (encoded once): the HLS chunks and the journal.
    '-f', 'tee',
  ];
}

/**
 * A live HLS output of the tee: a sliding playlist of short segments. No delete_segments: the
 * uploader removes each segment once it is in storage (FFmpeg's own deletion could beat a slow
 * upload). program_date_time: each segment's wall-clock start, for players' latency and sync.
 * `select=a`: the audio alone.
 */
function liveHlsSlave(track: 'video' | 'audio', run: number, o: LiveHlsArgs): string {
  return teeSlave([
    ['f', 'hls'],
    ...(track === 'audio' ? [['select', 'a'] as [string, string]] : []),
    ['hls_segment_type', 'fmp4'],
    ['hls_time', String(o.segmentSeconds)],
    ['hls_list_size', String(o.listSize)],
    ['hls_flags', 'temp_file+independent_segments+program_date_time'],
    ['hls_fmp4_init_filename', liveFiles.initName(run)],
    ['hls_segment_filename', liveFiles.segmentPattern(track, run)],
  ], liveFiles.playlist(track, run));
}

/** The tee muxer's output: FFmpeg's run playlist (HLS, fMP4 chunks), the run's journal, and the live HLS. */
export function outputTarget(o: RunArgsOptions): string {
  const outputs = [teeSlave([['f', 'hls'], ...hlsOptions(o)], files.runPlaylist(o.run)), teeSlave(JOURNAL_OPTIONS, files.journal(o.run))];
  if (o.liveHls) {
    outputs.push(liveHlsSlave('video', o.run, o.liveHls));
    if (o.liveHls.audio) outputs.push(liveHlsSlave('audio', o.run, o.liveHls));
  }
  return outputs.join('|');
}

/** Options of the salvage remux (journal.ts): the journal's tail as one chunk, copied. */
export function salvageArgs(o: { run: number; startIndex: number }): string[] {
  // hls_time: longer than any tail, so the whole tail is one chunk.
  return ['-map', '0', '-c', 'copy', '-f', 'hls', ...hlsOptions({ ...o, segmentSeconds: 86_400 }).flatMap(([k, v]) => [`-${k}`, v])];
}
