import type { types } from 'mediasoup';

/**
 * What every router on a node accepts. Opus for voice; H.264 (constrained baseline, what
 * Chromium's encoder and HLS players share) as the main video codec, so the recorder can copy it
 * into fMP4 without re-encoding; VP8 for browsers without H.264.
 */
export const mediaCodecs: types.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];
