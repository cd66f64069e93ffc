import { randomInt } from 'node:crypto';
import type { AccessUnit } from './host-media';

/**
 * RTP for a headless host: H.264 payloads (RFC 6184, packetization-mode 1: single NAL unit
 * packets and FU-A, no STAP-A), and one sender per SSRC writing headers with its own sequence
 * numbers and timestamps, and RTCP sender reports (RFC 3550).
 */

/** Payload bytes per packet: 1100 leaves room for headers, extensions and SRTP on any path. */
export const MAX_PAYLOAD = 1100;

const NAL_IDR = 5;
const NAL_SPS = 7;
const NAL_PPS = 8;
const FU_A = 28;

const nalType = (nal: Buffer) => (nal[0] ?? 0) & 0x1f;

/**
 * The frames with SPS and PPS in front of every IDR that lacks them (the last ones seen): a
 * receiver joining at any IDR can decode, and mediasoup recognises an H.264 key frame by its SPS.
 */
export function withParameterSets(frames: readonly AccessUnit[]): AccessUnit[] {
  let sps: Buffer | undefined;
  let pps: Buffer | undefined;
  return frames.map((frame) => {
    const types = frame.map(nalType);
    sps = frame.find((n) => nalType(n) === NAL_SPS) ?? sps;
    pps = frame.find((n) => nalType(n) === NAL_PPS) ?? pps;
    if (!types.includes(NAL_IDR) || types.includes(NAL_SPS)) return frame;
    if (!sps || !pps) throw new Error('an IDR frame before any SPS and PPS');
    return [sps, pps, ...frame.filter((n) => nalType(n) !== NAL_PPS)];
  });
}

/** RTP payloads of one access unit, in order; the last one carries the frame's marker bit. */
export function packetizeH264(frame: AccessUnit, max = MAX_PAYLOAD): Buffer[] {
  const payloads: Buffer[] = [];
  for (const nal of frame) {
    if (nal.length <= max) {
      payloads.push(nal);
      continue;
    }
    const header = nal[0] ?? 0;
    const indicator = (header & 0xe0) | FU_A;
    const body = nal.subarray(1);
    // Even fragments (rather than full ones and a small tail) keep packet sizes alike.
    const count = Math.ceil(body.length / (max - 2));
    const size = Math.ceil(body.length / count);
    for (let i = 0; i < count; i++) {
      const fuHeader = (i === 0 ? 0x80 : 0) | (i === count - 1 ? 0x40 : 0) | (header & 0x1f);
      payloads.push(Buffer.concat([Buffer.from([indicator, fuHeader]), body.subarray(i * size, (i + 1) * size)]));
    }
  }
  return payloads;
}

/** Seconds between 1900 (NTP's epoch) and 1970. */
const NTP_EPOCH_OFFSET = 2_208_988_800;

/** One outgoing RTP stream: random first sequence number and timestamp, counts for its reports. */
export class RtpSender {
  #seq = randomInt(0x10000);
  readonly #tsBase = randomInt(2 ** 32);
  packets = 0;
  /** Payload octets sent (RFC 3550's sender octet count). */
  octets = 0;

  constructor(
    readonly ssrc: number,
    readonly payloadType: number,
    readonly clockRate: number,
  ) {}

  /** The packet (header and payload, to send as one datagram) at `ticks` of the clock since the start. */
  packet(payload: Buffer, ticks: number, marker: boolean): [Buffer, Buffer] {
    const header = Buffer.allocUnsafe(12);
    header[0] = 0x80;
    header[1] = (marker ? 0x80 : 0) | this.payloadType;
    header.writeUInt16BE(this.#seq, 2);
    header.writeUInt32BE((this.#tsBase + ticks) >>> 0, 4);
    header.writeUInt32BE(this.ssrc, 8);
    this.#seq = (this.#seq + 1) & 0xffff;
    this.packets++;
    this.octets += payload.length;
    return [header, payload];
  }

  /**
   * A sender report mapping the wall clock `wallMs` (ms since 1970) to the stream's timestamp
   * `ticks` since the start: what lets mediasoup align the timestamps of simulcast layers when a
   * consumer switches between them.
   */
  senderReport(wallMs: number, ticks: number): Buffer {
    const sr = Buffer.alloc(28);
    sr[0] = 0x80; // V=2, no report blocks
    sr[1] = 200;
    sr.writeUInt16BE(6, 2); // length in 32-bit words minus one
    sr.writeUInt32BE(this.ssrc, 4);
    const seconds = Math.floor(wallMs / 1000);
    sr.writeUInt32BE((seconds + NTP_EPOCH_OFFSET) >>> 0, 8);
    sr.writeUInt32BE(Math.floor(((wallMs - seconds * 1000) / 1000) * 2 ** 32) >>> 0, 12);
    sr.writeUInt32BE((this.#tsBase + Math.round(ticks)) >>> 0, 16);
    sr.writeUInt32BE(this.packets >>> 0, 20);
    sr.writeUInt32BE(this.octets >>> 0, 24);
    return sr;
  }
}
