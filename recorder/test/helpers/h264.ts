/**
 * A tiny H.264 (constrained baseline) encoder for tests: a flat grey picture of any size in
 * macroblocks, where every frame is either an IDR (each macroblock Intra 16x16, DC prediction, no
 * residual) or a P frame that skips every macroblock. The stream is valid H.264 that FFmpeg parses
 * and decodes, and it has the one property a recorder test needs from a browser encoder: a key
 * frame comes when the sender decides (on PLI/FIR), never on a timer. FFmpeg's libx264 as a
 * source cannot answer a PLI, so it cannot show that the recorder asks at the right time.
 *
 * Each frame also carries an SEI (user data unregistered) with its frame number as ASCII digits
 * after `FRAME_MARK`, so a test can read which frames a recording holds straight from its bytes,
 * and an optional filler NAL unit to reach a realistic bitrate.
 */

/** The SEI's 16-byte UUID; every frame number follows it as 8 ASCII digits. */
export const FRAME_MARK = Buffer.from('podlive-frameid!', 'ascii');

class BitWriter {
  readonly #bytes: number[] = [];
  #current = 0;
  #bits = 0;

  u(bits: number, value: number): this {
    for (let i = bits - 1; i >= 0; i--) {
      this.#current = (this.#current << 1) | ((value >>> i) & 1);
      if (++this.#bits === 8) {
        this.#bytes.push(this.#current);
        this.#current = 0;
        this.#bits = 0;
      }
    }
    return this;
  }

  /** Exp-Golomb, unsigned. */
  ue(value: number): this {
    const v = value + 1;
    const len = Math.floor(Math.log2(v));
    return this.u(len, 0).u(len + 1, v);
  }

  /** Exp-Golomb, signed. */
  se(value: number): this {
    return this.ue(value <= 0 ? -2 * value : 2 * value - 1);
  }

  /** rbsp_trailing_bits, then the bytes. */
  trailing(): Buffer {
    this.u(1, 1);
    while (this.#bits !== 0) this.u(1, 0);
    return Buffer.from(this.#bytes);
  }
}

/** Inserts emulation prevention bytes (00 00 0x → 00 00 03 0x) and prepends the NAL header. */
function nal(header: number, rbsp: Buffer): Buffer {
  const out: number[] = [header];
  let zeros = 0;
  for (const byte of rbsp) {
    if (zeros >= 2 && byte <= 3) {
      out.push(3);
      zeros = 0;
    }
    out.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Buffer.from(out);
}

export interface H264Size {
  /** Width and height in pixels, multiples of 16. */
  width: number;
  height: number;
}

const LOG2_MAX_FRAME_NUM = 4;

export class TinyH264Encoder {
  readonly #mbs: number;
  #frameNum = 0;
  #idrId = 0;

  constructor(readonly size: H264Size) {
    if (size.width % 16 || size.height % 16) throw new TypeError('width and height must be multiples of 16');
    this.#mbs = (size.width / 16) * (size.height / 16);
  }

  /** SPS: profile 66 with constraint flags 0xe0 and level 3.1 (`42e01f`, what mediasoup routes). */
  sps(): Buffer {
    const w = new BitWriter()
      .u(8, 66).u(8, 0xe0).u(8, 31)
      .ue(0) // seq_parameter_set_id
      .ue(LOG2_MAX_FRAME_NUM - 4)
      .ue(2) // pic_order_cnt_type 2: output order is decode order
      .ue(1) // max_num_ref_frames
      .u(1, 0) // gaps_in_frame_num_value_allowed_flag
      .ue(this.size.width / 16 - 1)
      .ue(this.size.height / 16 - 1)
      .u(1, 1) // frame_mbs_only_flag
      .u(1, 1) // direct_8x8_inference_flag
      .u(1, 0) // frame_cropping_flag
      .u(1, 0); // vui_parameters_present_flag
    return nal(0x67, w.trailing());
  }

  pps(): Buffer {
    const w = new BitWriter()
      .ue(0).ue(0) // pps id, sps id
      .u(1, 0) // CAVLC
      .u(1, 0) // bottom_field_pic_order_in_frame_present_flag
      .ue(0) // num_slice_groups_minus1
      .ue(0).ue(0) // num_ref_idx_l0/l1_default_active_minus1
      .u(1, 0).u(2, 0) // weighted prediction off
      .se(0).se(0).se(0) // pic_init_qp/qs_minus26, chroma_qp_index_offset
      .u(1, 1) // deblocking_filter_control_present_flag
      .u(1, 0) // constrained_intra_pred_flag
      .u(1, 0); // redundant_pic_cnt_present_flag
    return nal(0x68, w.trailing());
  }

  /** The NAL units of the next frame: SPS, PPS, SEI, IDR slice when `key`; SEI, P slice otherwise. */
  frame(frameNumber: number, key: boolean, fillerBytes = 0): Buffer[] {
    if (key) this.#frameNum = 0;
    const w = new BitWriter().ue(0).ue(key ? 7 : 5).ue(0).u(LOG2_MAX_FRAME_NUM, this.#frameNum);
    if (key) {
      w.ue(this.#idrId++ % 2) // idr_pic_id: consecutive IDRs differ
        .u(1, 0).u(1, 0); // dec_ref_pic_marking: no_output_of_prior_pics, long_term_reference
    } else {
      w.u(1, 0) // num_ref_idx_active_override_flag
        .u(1, 0) // ref_pic_list_modification_flag_l0
        .u(1, 0); // adaptive_ref_pic_marking_mode_flag
    }
    w.se(0) // slice_qp_delta
      .ue(1); // disable_deblocking_filter_idc
    if (key) {
      // mb_type 3 = I_16x16_2_0_0 (DC prediction, no coded residual), intra_chroma_pred_mode DC,
      // mb_qp_delta 0, and the Intra16x16 DC block's coeff_token "no coefficients".
      for (let i = 0; i < this.#mbs; i++) w.ue(3).ue(0).se(0).u(1, 1);
    } else {
      w.ue(this.#mbs); // mb_skip_run: every macroblock copies the reference
    }
    const slice = nal(key ? 0x65 : 0x41, w.trailing());
    this.#frameNum = (this.#frameNum + 1) % (1 << LOG2_MAX_FRAME_NUM);
    const digits = Buffer.from(String(frameNumber % 1e8).padStart(8, '0'), 'ascii');
    const sei = nal(0x06, Buffer.concat([Buffer.from([5, FRAME_MARK.length + digits.length]), FRAME_MARK, digits, Buffer.from([0x80])]));
    const nals = key ? [this.sps(), this.pps(), sei, slice] : [sei, slice];
    if (fillerBytes > 0) nals.push(Buffer.concat([Buffer.from([0x0c]), Buffer.alloc(fillerBytes, 0xff), Buffer.from([0x80])]));
    return nals;
  }
}

/** RTP payloads of one frame (RFC 6184): a NAL unit per packet, FU-A when it exceeds `mtu`. */
export function packetize(nals: readonly Buffer[], mtu = 1200): Buffer[] {
  const out: Buffer[] = [];
  for (const unit of nals) {
    if (unit.length <= mtu) {
      out.push(unit);
      continue;
    }
    const header = unit[0] ?? 0;
    const indicator = (header & 0xe0) | 28;
    for (let offset = 1; offset < unit.length; offset += mtu - 2) {
      const end = Math.min(offset + mtu - 2, unit.length);
      const fu = (offset === 1 ? 0x80 : 0) | (end === unit.length ? 0x40 : 0) | (header & 0x1f);
      out.push(Buffer.concat([Buffer.from([indicator, fu]), unit.subarray(offset, end)]));
    }
  }
  return out;
}

/** Frame numbers in a recording's bytes (init segment and media segments, in order). */
export function frameNumbersIn(data: Buffer): number[] {
  const found: number[] = [];
  for (let i = data.indexOf(FRAME_MARK); i >= 0; i = data.indexOf(FRAME_MARK, i + FRAME_MARK.length)) {
    found.push(Number(data.subarray(i + FRAME_MARK.length, i + FRAME_MARK.length + 8).toString('ascii')));
  }
  return found;
}
