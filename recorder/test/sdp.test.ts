import { describe, expect, it } from 'vitest';
import { buildSdp, type SdpStream } from '../src/capture/sdp';

/** What the node returns for a plain consumer of Chromium's H.264 and Opus (mediasoup 3.12). */
const h264: SdpStream['rtpParameters'] = {
  codecs: [{
    mimeType: 'video/H264', payloadType: 101, clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  }],
};
const opus: SdpStream['rtpParameters'] = { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {} }] };

describe('buildSdp', () => {
  it('writes one m= line per stream with its payload type, rtpmap and fmtp, on 127.0.0.1', () => {
    expect(buildSdp([{ kind: 'video', port: 50000, rtpParameters: h264 }, { kind: 'audio', port: 50002, rtpParameters: opus }])).toBe(
      [
        'v=0',
        'o=- 0 0 IN IP4 127.0.0.1',
        's=podlive-recorder',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        'm=video 50000 RTP/AVP 101',
        'a=rtpmap:101 H264/90000',
        'a=fmtp:101 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1',
        'a=recvonly',
        'm=audio 50002 RTP/AVP 100',
        'a=rtpmap:100 opus/48000/2',
        'a=recvonly',
        '',
      ].join('\r\n'),
    );
  });

  it('takes the address and session name given, IPv6 too', () => {
    const sdp = buildSdp([{ kind: 'audio', port: 40000, rtpParameters: opus }], { ip: '::1', sessionName: 'r2' });
    expect(sdp).toContain('c=IN IP6 ::1\r\n');
    expect(sdp).toContain('s=r2\r\n');
  });

  it('skips retransmission codecs and uses the media codec', () => {
    const withRtx = { codecs: [{ mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: 101 } }, ...h264.codecs] };
    expect(buildSdp([{ kind: 'video', port: 40000, rtpParameters: withRtx }])).toContain('m=video 40000 RTP/AVP 101\r\n');
  });

  it('rejects what FFmpeg could not receive: no streams, overlapping RTP/RTCP ports, a bad port, a codec of the wrong kind', () => {
    expect(() => buildSdp([])).toThrow(TypeError);
    expect(() => buildSdp([{ kind: 'video', port: 40000, rtpParameters: h264 }, { kind: 'audio', port: 40001, rtpParameters: opus }])).toThrow(/overlaps/);
    expect(() => buildSdp([{ kind: 'audio', port: 65535, rtpParameters: opus }])).toThrow(/bad RTP port/);
    expect(() => buildSdp([{ kind: 'video', port: 40000, rtpParameters: opus }])).toThrow(/not a video codec/);
    expect(() => buildSdp([{ kind: 'video', port: 40000, rtpParameters: { codecs: [] } }])).toThrow(/no media codec/);
  });
});
