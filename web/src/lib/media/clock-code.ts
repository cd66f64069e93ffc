/**
 * The glass-to-glass latency probe's code: the sender paints its clock (ms since the epoch) into
 * each video frame as blocks, the viewer reads it back from decoded frames and compares with its
 * own clock (same machine, same clock). Blocks are large so any simulcast layer (down to 1/4
 * resolution) and H.264's quantization keep them readable; a second row carries the inverted bits,
 * and a frame whose rows disagree is discarded rather than misread.
 */
export const BITS = 44;
const COLS = 22;
/** Band of two bit rows per 44-bit value: row 0..1 value, row 2..3 inverted value. */
const ROWS = 4;
export const WIDTH = 640;
export const HEIGHT = 360;
const BLOCK = WIDTH / COLS;

function bitAt(value: number, bit: number): number {
  return Math.floor(value / 2 ** bit) % 2;
}

/** Paints `value` (an integer < 2^44) into the top band of a WIDTH x HEIGHT canvas. */
export function paintClock(ctx: CanvasRenderingContext2D, value: number): void {
  ctx.fillStyle = '#335';
  ctx.fillRect(0, 0, WIDTH, HEIGHT);
  for (let bit = 0; bit < BITS; bit++) {
    const col = bit % COLS;
    const row = Math.floor(bit / COLS);
    const one = bitAt(value, bit) === 1;
    ctx.fillStyle = one ? '#fff' : '#000';
    ctx.fillRect(col * BLOCK, row * BLOCK, BLOCK, BLOCK);
    ctx.fillStyle = one ? '#000' : '#fff';
    ctx.fillRect(col * BLOCK, (row + 2) * BLOCK, BLOCK, BLOCK);
  }
  ctx.fillStyle = '#fff';
  ctx.font = '28px sans-serif';
  ctx.fillText(new Date(value).toISOString().slice(11, 23), 20, ROWS * BLOCK + 60);
}

/**
 * Reads the value back from a decoded frame's pixels (RGBA, any resolution with the same aspect);
 * null when the two copies disagree (a blurred or half-updated frame).
 */
export function readClock(pixels: Uint8ClampedArray, width: number, height: number): number | null {
  const block = width / COLS;
  const sample = (col: number, row: number) => {
    const x = Math.floor(col * block + block / 2);
    const y = Math.floor(row * block + block / 2);
    const i = (y * width + x) * 4;
    return (pixels[i]! + pixels[i + 1]! + pixels[i + 2]!) / 3 > 127 ? 1 : 0;
  };
  if (height < ROWS * block) return null;
  let value = 0;
  for (let bit = 0; bit < BITS; bit++) {
    const col = bit % COLS;
    const row = Math.floor(bit / COLS);
    const b = sample(col, row);
    if (b === sample(col, row + 2)) return null;
    value += b * 2 ** bit;
  }
  return value;
}

/** p-th percentile (0..100) of samples, nearest-rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
