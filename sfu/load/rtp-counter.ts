/**
 * Counts SRTP packets from their RTP header, which SRTP leaves in the clear (RFC 3711): SSRC,
 * sequence number, size. No decryption, no allocation per packet; only every `sampleEvery`-th
 * packet is handed to `verify` (decrypted and checked by the caller).
 */

export type StreamRole = 'audio' | 'video' | 'rtx';

export interface StreamCounts {
  packets: number;
  /** RTP bytes (header + payload), the SRTP auth tag excluded: comparable with mediasoup's byteCount. */
  bytes: number;
  /** Sequence numbers skipped (lost or still missing), less the late arrivals that filled a gap. */
  lost: number;
}

interface Stream extends StreamCounts {
  role: StreamRole;
  highest: number;
  started: boolean;
}

export interface CounterEvents {
  /** A video gap of `count` packets just before `seq` (the caller NACKs or PLIs). */
  gap: (ssrc: number, firstLost: number, count: number) => void;
  /** A sampled packet to decrypt and check. */
  verify: (packet: Buffer, role: StreamRole) => void;
}

export class RtpCounter {
  readonly #streams = new Map<number, Stream>();
  #sample = 0;
  /** Packets for an SSRC we did not ask for (probation, a stream we don't know). */
  unknownPackets = 0;
  rtcpPackets = 0;
  firstPacketAt = 0;
  lastPacketAt = 0;

  constructor(
    private readonly events: CounterEvents,
    private readonly sampleEvery: number,
    /** SRTP auth tag length of the negotiated profile (10 for AES_CM_HMAC_SHA1_80, 16 for GCM). */
    public tagLength = 10,
  ) {}

  expect(ssrc: number, role: StreamRole): void {
    if (!this.#streams.has(ssrc)) this.#streams.set(ssrc, { role, packets: 0, bytes: 0, lost: 0, highest: 0, started: false });
  }

  /** One datagram from the ICE connection (STUN and DTLS are ignored by their first byte, RFC 7983). */
  onDatagram(buf: Buffer): void {
    const first = buf[0] ?? 0;
    if (first < 128 || first > 191 || buf.length < 12) return;
    const pt = (buf[1] ?? 0) & 0x7f;
    if (pt >= 64 && pt <= 95) {
      this.rtcpPackets++;
      return;
    }
    const now = performance.now();
    if (this.firstPacketAt === 0) this.firstPacketAt = now;
    this.lastPacketAt = now;
    const ssrc = buf.readUInt32BE(8);
    const stream = this.#streams.get(ssrc);
    if (!stream) {
      this.unknownPackets++;
      return;
    }
    stream.packets++;
    stream.bytes += buf.length - this.tagLength;
    const seq = buf.readUInt16BE(2);
    if (!stream.started) {
      stream.started = true;
      stream.highest = seq;
    } else if (stream.role !== 'rtx') {
      const ahead = (seq - stream.highest) & 0xffff;
      if (ahead > 0 && ahead < 0x8000) {
        if (ahead > 1) {
          stream.lost += ahead - 1;
          if (stream.role === 'video') this.events.gap(ssrc, (stream.highest + 1) & 0xffff, ahead - 1);
        }
        stream.highest = seq;
      } else if (ahead >= 0x8000 && stream.lost > 0) {
        stream.lost--; // a late packet filled a gap
      }
    }
    if (++this.#sample >= this.sampleEvery) {
      this.#sample = 0;
      this.events.verify(buf, stream.role);
    }
  }

  /** Totals per role. */
  totals(): Record<StreamRole, StreamCounts> {
    const out: Record<StreamRole, StreamCounts> = {
      audio: { packets: 0, bytes: 0, lost: 0 },
      video: { packets: 0, bytes: 0, lost: 0 },
      rtx: { packets: 0, bytes: 0, lost: 0 },
    };
    for (const s of this.#streams.values()) {
      out[s.role].packets += s.packets;
      out[s.role].bytes += s.bytes;
      out[s.role].lost += s.lost;
    }
    return out;
  }

  /** Per SSRC, for comparing with the SFU's consumer stats. */
  bySsrc(): Map<number, StreamCounts> {
    return new Map([...this.#streams].map(([ssrc, s]) => [ssrc, { packets: s.packets, bytes: s.bytes, lost: s.lost }]));
  }
}
