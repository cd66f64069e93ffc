import { describe, expect, it } from 'vitest';
import { simulcastEncodings } from '../src/lib/media/simulcast';

const heights = (cameraHeight: number | undefined) => simulcastEncodings(cameraHeight).map((e) => Math.round((cameraHeight ?? 720) / (e.scaleResolutionDownBy ?? 1)));

describe('the simulcast ladder', () => {
  it('sends 1080p, 720p and 480p from a Full HD camera, lowest first, each with its bitrate cap', () => {
    expect(simulcastEncodings(1080)).toEqual([
      { rid: 'r0', scaleResolutionDownBy: 2.25, maxBitrate: 700_000 },
      { rid: 'r1', scaleResolutionDownBy: 1.5, maxBitrate: 1_500_000 },
      { rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 3_000_000 },
    ]);
  });

  it('sends fewer layers where the camera does not reach them, never upscaling', () => {
    expect(heights(720)).toEqual([480, 720]);
    expect(heights(900)).toEqual([480, 720]);
    expect(heights(2160)).toEqual([480, 720, 1080]);
    // A small camera: one layer as it is, no rid (not simulcast).
    expect(simulcastEncodings(360)).toEqual([{ maxBitrate: 700_000 }]);
    // Unknown size (no settings yet): treated as HD.
    expect(heights(undefined)).toEqual([480, 720]);
  });
});
