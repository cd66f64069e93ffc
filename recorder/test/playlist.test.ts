import { describe, expect, it } from 'vitest';
import { parseMediaPlaylist, renderLivePlaylist, renderSlidingPlaylist } from '../src/capture/playlist';

/** As FFmpeg 5.1 writes a run's playlist (-hls_playlist_type event, fMP4). */
const ffmpegPlaylist = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:4
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-1.mp4"
#EXTINF:2.033333,
seg-00004.m4s
#EXTINF:2.000000,
seg-00005.m4s
`;

describe('parseMediaPlaylist', () => {
  it('lists the segments with their durations, the init segment and the media sequence', () => {
    expect(parseMediaPlaylist(ffmpegPlaylist)).toEqual({
      map: 'init-1.mp4',
      mediaSequence: 4,
      segments: [{ uri: 'seg-00004.m4s', durationSec: 2.033333 }, { uri: 'seg-00005.m4s', durationSec: 2 }],
      ended: false,
    });
    expect(parseMediaPlaylist(`${ffmpegPlaylist}#EXTINF:0.5,\nseg-00006.m4s\n#EXT-X-ENDLIST\n`).ended).toBe(true);
  });

  it('ignores a half-written tail: a URI line without its newline, an #EXTINF without its URI', () => {
    expect(parseMediaPlaylist(`${ffmpegPlaylist}#EXTINF:2.0,\nseg-000`).segments).toHaveLength(2);
    expect(parseMediaPlaylist(`${ffmpegPlaylist}#EXTINF:2.0,\n`).segments).toHaveLength(2);
  });
});

describe('renderLivePlaylist', () => {
  it('puts a discontinuity and the new init segment where FFmpeg restarted, and ends when told', () => {
    const text = renderLivePlaylist({
      segments: [
        { uri: 'seg-00000.m4s', durationSec: 30.02, initUri: 'init-0.mp4' },
        { uri: 'seg-00001.m4s', durationSec: 12.5, initUri: 'init-0.mp4' },
        { uri: 'seg-00002.m4s', durationSec: 30, initUri: 'init-1.mp4' },
      ],
      segmentSeconds: 30,
      firstIndex: 0,
      ended: true,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:31
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-0.mp4"
#EXTINF:30.020000,
seg-00000.m4s
#EXTINF:12.500000,
seg-00001.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-1.mp4"
#EXTINF:30.000000,
seg-00002.m4s
#EXT-X-ENDLIST
`);
  });

  it('keeps every segment within the target duration (a segment cut late raises it)', () => {
    const text = renderLivePlaylist({ segments: [{ uri: 'seg-00000.m4s', durationSec: 33.6, initUri: 'init-0.mp4' }], segmentSeconds: 30, firstIndex: 0, ended: false });
    expect(text).toContain('#EXT-X-TARGETDURATION:34\n');
    expect(text).not.toContain('#EXT-X-ENDLIST');
  });
});

describe('the sliding live playlist (live low-latency HLS)', () => {
  it('lists the window with its sequence numbers, dates, and a discontinuity where the run changes; FFmpeg’s dates parse back', () => {
    const text = renderSlidingPlaylist({
      segments: [
        { uri: 'a.0-00004.m4s', durationSec: 1.02, initUri: 'init-a.0.mp4', programDateTime: '2026-12-03T15:00:04.000+0000' },
        { uri: 'a.0-00005.m4s', durationSec: 0.4, initUri: 'init-a.0.mp4' },
        { uri: 'b.1-00000.m4s', durationSec: 1, initUri: 'init-b.1.mp4', programDateTime: '2026-12-03T15:00:06.000+0000' },
      ],
      mediaSequence: 40, discontinuitySequence: 2, targetDuration: 1, ended: false,
    });
    expect(text).toBe(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:40
#EXT-X-DISCONTINUITY-SEQUENCE:2
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init-a.0.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-03T15:00:04.000+0000
#EXTINF:1.020000,
a.0-00004.m4s
#EXTINF:0.400000,
a.0-00005.m4s
#EXT-X-DISCONTINUITY
#EXT-X-MAP:URI="init-b.1.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-12-03T15:00:06.000+0000
#EXTINF:1.000000,
b.1-00000.m4s
`);
    const parsed = parseMediaPlaylist(text);
    expect(parsed.segments.map((s) => s.programDateTime)).toEqual(['2026-12-03T15:00:04.000+0000', undefined, '2026-12-03T15:00:06.000+0000']);
    expect(renderSlidingPlaylist({ segments: [], mediaSequence: 0, discontinuitySequence: 0, targetDuration: 1, ended: true })).toMatch(/#EXT-X-ENDLIST\n$/);
  });
});
