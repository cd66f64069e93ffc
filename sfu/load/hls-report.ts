import type { HlsPlayerResult } from './hls-player';
import type { HlsProgress, HlsRunResult } from './hls-runner';
import type { LoadOptions } from './options';
import { percentiles, type Percentiles } from './report';

/** A player's own line in the report: its counts, its latency as p50 instead of every sample. */
export type HlsPlayerLine = Omit<HlsPlayerResult, 'latencyMs' | 'arrivalMs'> & { latencyP50Ms?: number };

export interface HlsReport {
  config: { playlist: string; players: number; rate: number; duration: number; variant: number };
  players: { requested: number; started: number; failed: number; playing: number };
  requests: { total: number; perSecond: number; playlists: number; unchangedPlaylists: number; inits: number; segments: number };
  bytes: number;
  /** All players together, over the run. */
  mbps: number;
  startMs: Percentiles;
  /** Once a second per playing player: now − the program date time of the playhead. */
  latencyMs: Percentiles;
  /** Per segment as it arrives: now − the program date time of its end (how far behind delivery is). */
  arrivalMs: Percentiles;
  stalls: { count: number; totalMs: number; players: number };
  skips: number;
  errors: { reason: string; count: number }[];
  failures: { reason: string; count: number }[];
  perPlayer: HlsPlayerLine[];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

function tally(reasons: [string, number][]): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const [reason, n] of reasons) counts.set(reason, (counts.get(reason) ?? 0) + n);
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

export function buildHlsReport(o: LoadOptions, run: HlsRunResult): HlsReport {
  const all = [...run.players].sort((a, b) => a.index - b.index);
  const sum = (f: (p: HlsPlayerResult) => number) => all.reduce((n, p) => n + f(p), 0);
  const seconds = Math.max(run.wallMs, 1) / 1000;
  const requests = sum((p) => p.requests);
  const bytes = sum((p) => p.bytes);
  return {
    config: { playlist: run.playlist, players: o.viewers, rate: o.rate, duration: o.duration, variant: o.hls?.variant ?? 0 },
    players: {
      requested: all.length,
      started: all.filter((p) => p.startMs !== undefined).length,
      failed: all.filter((p) => p.failure !== undefined).length,
      playing: all.filter((p) => p.playing).length,
    },
    requests: {
      total: requests, perSecond: round(requests / seconds), playlists: sum((p) => p.playlists),
      unchangedPlaylists: sum((p) => p.unchanged), inits: sum((p) => p.inits), segments: sum((p) => p.segments),
    },
    bytes,
    mbps: round((bytes * 8) / seconds / 1e6, 2),
    startMs: percentiles(all.flatMap((p) => (p.startMs === undefined ? [] : [p.startMs]))),
    latencyMs: percentiles(all.flatMap((p) => p.latencyMs)),
    arrivalMs: percentiles(all.flatMap((p) => p.arrivalMs)),
    stalls: { count: sum((p) => p.stalls), totalMs: Math.round(sum((p) => p.stallMs)), players: all.filter((p) => p.stalls > 0).length },
    skips: sum((p) => p.skips),
    errors: tally(all.flatMap((p) => Object.entries(p.errors))),
    failures: tally(all.flatMap((p) => (p.failure === undefined ? [] : [[p.failure, 1] as [string, number]]))),
    perPlayer: all.map(({ latencyMs, arrivalMs: _arrival, ...rest }) => ({
      ...rest,
      ...(latencyMs.length ? { latencyP50Ms: percentiles(latencyMs).p50 } : {}),
    })),
  };
}

const pct = (p: Percentiles) => `p50 ${p.p50}  p95 ${p.p95}  max ${p.max}  (n=${p.count})`;

/** The readable summary (stdout). */
export function formatHlsTable(r: HlsReport): string {
  const rows: [string, string][] = [
    ['players', `${r.players.started}/${r.players.requested} started, ${r.players.failed} failed, ${r.players.playing} playing at the end`],
    ['playlist', r.config.playlist],
    ['requests', `${r.requests.total} (${r.requests.perSecond}/s): ${r.requests.playlists} playlists (${r.requests.unchangedPlaylists} unchanged), ${r.requests.inits} init, ${r.requests.segments} segments`],
    ['received', `${round(r.bytes / 2 ** 20)} MiB, ${r.mbps} Mbit/s in all`],
    ['start (ms)', pct(r.startMs)],
    ['latency at playhead (ms)', pct(r.latencyMs)],
    ['segment arrival (ms)', `${pct(r.arrivalMs)}  (now − PDT of its end)`],
    ['stalls', `${r.stalls.count} (${r.stalls.players} players), ${r.stalls.totalMs} ms in all; ${r.skips} skips to the live edge`],
    ...r.errors.map((e): [string, string] => ['error', `${e.count} × ${e.reason}`]),
    ...r.failures.map((f): [string, string] => ['failed', `${f.count} × ${f.reason}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** One progress line; the bitrate from the byte count since the previous line. */
export function formatHlsProgress(p: HlsProgress, prev: HlsProgress | undefined, seconds: number, total: number): string {
  const mbps = prev ? ((p.bytes - prev.bytes) * 8) / 1e6 : 0;
  return `[${seconds}s] players ${p.started}/${total}  playing ${p.playing}  failed ${p.failed}  stalls ${p.stalls}  segments ${p.segments}  ${round(mbps, 2)} Mbit/s`;
}
