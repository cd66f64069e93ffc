import { setTimeout as sleep } from 'node:timers/promises';
import { hlsPlaylistUrl, type LoadOptions } from './options';
import { HlsPlayer, type HlsPlayerResult } from './hls-player';

/** Cumulative counters of the players, every second. */
export interface HlsProgress {
  started: number;
  playing: number;
  failed: number;
  stalls: number;
  segments: number;
  bytes: number;
}

export interface HlsRunResult {
  playlist: string;
  players: HlsPlayerResult[];
  /** First start → the results taken (ms). */
  wallMs: number;
}

export interface HlsRunHooks {
  progress?: (p: HlsProgress) => void;
  /** After the duration, before the players stop. */
  beforeClose?: (players: readonly HlsPlayer[]) => Promise<void>;
}

export function hlsProgressOf(players: readonly HlsPlayer[]): HlsProgress {
  const p: HlsProgress = { started: players.length, playing: 0, failed: 0, stalls: 0, segments: 0, bytes: 0 };
  for (const player of players) {
    if (player.state === 'playing' || player.state === 'ended') p.playing++;
    if (player.failed) p.failed++;
    p.stalls += player.stalls;
    p.segments += player.segments;
    p.bytes += player.bytes;
  }
  return p;
}

/** Starts `o.viewers` HLS players at `o.rate` per second, keeps them for `o.duration` after the last start, and collects their results. */
export async function runPlayers(o: LoadOptions, hooks: HlsRunHooks = {}): Promise<HlsRunResult> {
  const playlist = hlsPlaylistUrl(o);
  const players: HlsPlayer[] = [];
  const t0 = performance.now();
  const ticker = setInterval(() => hooks.progress?.(hlsProgressOf(players)), 1000);
  try {
    for (let i = 0; i < o.viewers; i++) {
      const wait = t0 + (i * 1000) / o.rate - performance.now();
      if (wait > 0) await sleep(wait);
      const player = new HlsPlayer({ playlist, variant: o.hls?.variant ?? 0, index: o.offset + i });
      players.push(player);
      void player.start();
    }
    await sleep(o.duration * 1000);
    hooks.progress?.(hlsProgressOf(players));
    await hooks.beforeClose?.(players);
    return { playlist, players: players.map((p) => p.result()), wallMs: performance.now() - t0 };
  } finally {
    clearInterval(ticker);
    for (const player of players) player.close();
  }
}
