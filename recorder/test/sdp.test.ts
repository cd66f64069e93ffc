import { describe, expect, it } from 'vitest';
import { buildSdp, routerStream, sameRtpInput, type RouterCodec, type SdpStream } from '../src/capture/sdp';

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

/** A router's codecs as getRouterRtpCapabilities gives them (mediasoup 3.12, sfu/src/media-codecs.ts). */
const routerCodecs: RouterCodec[] = [
  { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2, parameters: {} },
  { kind: 'video', mimeType: 'video/H264', preferredPayloadType: 101, clockRate: 90000, parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 } },
  { kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 102, clockRate: 90000, parameters: { apt: 101 } },
  { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 103, clockRate: 90000, parameters: {} },
];

describe('routerStream', () => {
  it('is the stream a consumer of that codec will send: the router’s payload type, clock rate, channels and parameters', () => {
    const video = routerStream(routerCodecs, 'video', 'video/h264', 40000)!;
    const audio = routerStream(routerCodecs, 'audio', 'audio/opus', 40002)!;
    expect(sameRtpInput([video, audio], [{ kind: 'video', port: 40000, rtpParameters: h264 }, { kind: 'audio', port: 40002, rtpParameters: opus }])).toBe(true);
    expect(buildSdp([video, audio])).toContain('m=video 40000 RTP/AVP 101\r\na=rtpmap:101 H264/90000\r\na=fmtp:101 packetization-mode=1;');
    expect(buildSdp([video, audio])).toContain('m=audio 40002 RTP/AVP 100\r\na=rtpmap:100 opus/48000/2\r\n');
  });

  it('is undefined when the router has no such codec', () => {
    expect(routerStream(routerCodecs.filter((c) => c.mimeType !== 'video/H264'), 'video', 'video/H264', 40000)).toBeUndefined();
    expect(routerStream([], 'audio', 'audio/opus', 40000)).toBeUndefined();
  });
});

describe('sameRtpInput', () => {
  const video = (port: number, codec: Partial<SdpStream['rtpParameters']['codecs'][number]> = {}, parameters: Record<string, unknown> = {}): SdpStream => ({
    kind: 'video', port, rtpParameters: { codecs: [{ ...h264.codecs[0]!, ...codec, parameters: { ...h264.codecs[0]!.parameters, ...parameters } }] },
  });
  const audio = (port: number, codec: Partial<SdpStream['rtpParameters']['codecs'][number]> = {}): SdpStream => ({
    kind: 'audio', port, rtpParameters: { codecs: [{ ...opus.codecs[0]!, ...codec }] },
  });

  it('ignores what FFmpeg does not demux by: other fmtp parameters, retransmission codecs', () => {
    const withRtx: SdpStream = { kind: 'video', port: 40000, rtpParameters: { codecs: [{ mimeType: 'video/rtx', payloadType: 102, clockRate: 90000 }, ...video(40000, {}, { 'profile-level-id': '4d001f' }).rtpParameters.codecs] } };
    expect(sameRtpInput([video(40000), audio(40002)], [withRtx, audio(40002, { parameters: { useinbandfec: 1 } })])).toBe(true);
  });

  it('tells apart a different port, payload type, codec, clock rate, channel count, packetization mode or number of streams', () => {
    const armed = [video(40000), audio(40002)];
    expect(sameRtpInput(armed, [video(40004), audio(40002)])).toBe(false);
    expect(sameRtpInput(armed, [video(40000), audio(40006)])).toBe(false);
    expect(sameRtpInput(armed, [video(40000, { payloadType: 107 }), audio(40002)])).toBe(false);
    expect(sameRtpInput(armed, [video(40000, { mimeType: 'video/VP8', parameters: {} }), audio(40002)])).toBe(false);
    expect(sameRtpInput(armed, [video(40000, { clockRate: 48000 }), audio(40002)])).toBe(false);
    expect(sameRtpInput(armed, [video(40000), audio(40002, { channels: 1 })])).toBe(false);
    expect(sameRtpInput(armed, [video(40000, {}, { 'packetization-mode': 0 }), audio(40002)])).toBe(false);
    expect(sameRtpInput(armed, [video(40000), audio(40002), audio(40008)])).toBe(false);
    expect(sameRtpInput(armed, [audio(40002), video(40000)])).toBe(false);
  });
});
