/**
 * The SDP FFmpeg reads a rendition's RTP from. FFmpeg's sdp demuxer binds, for each m= line, the
 * RTP port it names and that port + 1 for RTCP; the node's PlainTransport (comedia off, RTCP not
 * muxed) sends there. Only what FFmpeg uses is written: connection address, one m= line per
 * stream with its payload type, rtpmap and fmtp, and recvonly.
 *
 * The RTP parameters are the ones the node returns for a consumer (mediasoup's shape, declared
 * here structurally so no mediasoup type leaks into the recorder).
 */

/** A codec of a consumer's RTP parameters (mediasoup `RtpCodecParameters`). */
export interface SdpCodec {
  /** `video/H264`, `audio/opus`, ... */
  mimeType: string;
  payloadType: number;
  clockRate: number;
  /** Audio channels (Opus: 2). */
  channels?: number;
  /** fmtp parameters (`packetization-mode`, `profile-level-id`, ...). */
  parameters?: Record<string, unknown>;
}

/** One stream FFmpeg receives: the consumer's RTP parameters and the port it is sent to. */
export interface SdpStream {
  kind: 'audio' | 'video';
  /** RTP port; RTCP goes to `port + 1`. */
  port: number;
  rtpParameters: { codecs: readonly SdpCodec[] };
}

export interface SdpOptions {
  /** Address FFmpeg receives on (default 127.0.0.1). IPv6 addresses are written as `IP6`. */
  ip?: string;
  /** The `s=` line (default `podlive-recorder`). */
  sessionName?: string;
}

/** The codec a consumer sends media with: its first codec that is not a retransmission format. */
function mediaCodec(stream: SdpStream): SdpCodec {
  const codec = stream.rtpParameters.codecs.find((c) => !/\/(rtx|red|ulpfec|flexfec)$/i.test(c.mimeType));
  if (!codec) throw new TypeError(`no media codec in the ${stream.kind} stream's RTP parameters`);
  const [kind] = codec.mimeType.toLowerCase().split('/');
  if (kind !== stream.kind) throw new TypeError(`${codec.mimeType} is not a ${stream.kind} codec`);
  if (!Number.isInteger(codec.payloadType) || codec.payloadType < 0 || codec.payloadType > 127) {
    throw new TypeError(`bad payload type ${codec.payloadType} for ${codec.mimeType}`);
  }
  return codec;
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65534) throw new TypeError(`bad RTP port ${port} (RTCP needs port + 1)`);
}

/** `packetization-mode=1;profile-level-id=42e01f`: every parameter, in the order given. */
function fmtp(parameters: Record<string, unknown> | undefined): string | undefined {
  const pairs = Object.entries(parameters ?? {})
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${String(v)}`);
  return pairs.length ? pairs.join(';') : undefined;
}

/** The SDP text for `streams` (at least one; their RTP/RTCP port pairs must not overlap). */
export function buildSdp(streams: readonly SdpStream[], options: SdpOptions = {}): string {
  if (streams.length === 0) throw new TypeError('an SDP needs at least one stream');
  const taken = new Set<number>();
  for (const { port } of streams) {
    checkPort(port);
    if (taken.has(port) || taken.has(port + 1)) throw new TypeError(`port ${port} overlaps another stream's RTP/RTCP pair`);
    taken.add(port).add(port + 1);
  }
  const ip = options.ip ?? '127.0.0.1';
  const family = ip.includes(':') ? 'IP6' : 'IP4';
  const lines = ['v=0', `o=- 0 0 IN ${family} ${ip}`, `s=${options.sessionName ?? 'podlive-recorder'}`, `c=IN ${family} ${ip}`, 't=0 0'];
  for (const stream of streams) {
    const codec = mediaCodec(stream);
    const [, name = ''] = codec.mimeType.split('/');
    const channels = stream.kind === 'audio' && codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
    lines.push(`m=${stream.kind} ${stream.port} RTP/AVP ${codec.payloadType}`);
    lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`);
    const params = fmtp(codec.parameters);
    if (params) lines.push(`a=fmtp:${codec.payloadType} ${params}`);
    lines.push('a=recvonly');
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The codec a router offers for `kind` (mediasoup `RtpCodecCapability`, as getRouterRtpCapabilities gives it). */
export interface RouterCodec {
  kind?: string;
  mimeType: string;
  preferredPayloadType?: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
}

/**
 * The stream a consumer of `mimeType` on this router will send, before any producer exists: a
 * consumer's payload type is the router's, its codec the router's codec of that type. Undefined
 * when the router has no such codec.
 */
export function routerStream(codecs: readonly RouterCodec[], kind: SdpStream['kind'], mimeType: string, port: number): SdpStream | undefined {
  const codec = codecs.find((c) => c.mimeType.toLowerCase() === mimeType.toLowerCase() && c.preferredPayloadType !== undefined);
  if (!codec) return undefined;
  const { preferredPayloadType, kind: _kind, ...rest } = codec;
  return { kind, port, rtpParameters: { codecs: [{ ...rest, payloadType: preferredPayloadType! }] } };
}

/**
 * Whether FFmpeg reads RTP described by `a` as it reads RTP described by `b`: the same ports and,
 * stream by stream, the same codec, payload type, clock rate, channels and (video) packetization
 * mode. Other fmtp parameters (Opus's FEC, H.264's level) change nothing in what it demuxes.
 */
export function sameRtpInput(a: readonly SdpStream[], b: readonly SdpStream[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    if (x.kind !== y.kind || x.port !== y.port) return false;
    const [cx, cy] = [mediaCodec(x), mediaCodec(y)];
    const mode = (c: SdpCodec) => String(c.parameters?.['packetization-mode'] ?? 0);
    return cx.mimeType.toLowerCase() === cy.mimeType.toLowerCase() && cx.payloadType === cy.payloadType && cx.clockRate === cy.clockRate
      && (cx.channels ?? 1) === (cy.channels ?? 1) && (x.kind === 'audio' || mode(cx) === mode(cy));
  });
}
