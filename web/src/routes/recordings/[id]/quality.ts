/** One entry of the quality menu: an hls.js level index and its label. */
export interface QualityChoice {
  level: number;
  label: string;
}

/**
 * The quality menu's levels, best first, labelled by height ("720p"); a level without one (audio
 * only, or a playlist without RESOLUTION) by its bitrate. Two levels of one height get their
 * bitrates too, so every label names one level.
 */
export function qualityChoices(levels: readonly { height: number; bitrate: number }[]): QualityChoice[] {
  const kbps = (bitrate: number) => `${Math.round(bitrate / 1000)} kbps`;
  const byHeight = new Map<number, number>();
  for (const { height } of levels) byHeight.set(height, (byHeight.get(height) ?? 0) + 1);
  return levels
    .map(({ height, bitrate }, level) => {
      const label = height > 0 ? `${height}p` : kbps(bitrate);
      return { level, height, bitrate, label: height > 0 && (byHeight.get(height) ?? 0) > 1 ? `${label} (${kbps(bitrate)})` : label };
    })
    .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate)
    .map(({ level, label }) => ({ level, label }));
}
