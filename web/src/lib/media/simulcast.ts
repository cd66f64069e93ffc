import type { types } from 'mediasoup-client';

/**
 * The simulcast ladder a camera is published with: a layer at each of these heights the camera
 * reaches (1080p, 720p, 480p from a Full HD camera; 720p and 480p from an HD one), lowest first.
 * Each layer is also a rendition of the recording (copied, never re-encoded), so this ladder is
 * the recording's quality menu too. A camera below 480p sends one layer, as it is.
 */
export const LADDER = [
  { height: 480, maxBitrate: 700_000 },
  { height: 720, maxBitrate: 1_500_000 },
  { height: 1080, maxBitrate: 3_000_000 },
] as const;

/** The capture size asked of the camera: the top of the ladder, where the camera allows. */
export const CAMERA_CONSTRAINTS = { width: { ideal: 1920 }, height: { ideal: 1080 } } as const satisfies MediaTrackConstraints;

/** Encodings (rids r0, r1… from the lowest) for a camera track of this height. */
export function simulcastEncodings(height: number | undefined): types.RtpEncodingParameters[] {
  const source = height && height > 0 ? height : 720;
  const layers = LADDER.filter((l) => l.height <= source);
  if (layers.length === 0) return [{ maxBitrate: LADDER[0].maxBitrate }];
  return layers.map((l, i) => ({ rid: `r${i}`, scaleResolutionDownBy: source / l.height, maxBitrate: l.maxBitrate }));
}
