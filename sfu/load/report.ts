import type { LoadOptions } from './options';
import type { FinalViewer, Progress, RunResult } from './runner';
import type { StreamCounts, StreamRole } from './rtp-counter';

export interface Percentiles {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface LoadReport {
  config: { session: string; source: 'rest' | 'mint'; viewers: number; rate: number; duration: number; listen: boolean; processes: number; sampleEvery: number };
  viewers: { requested: number; joined: number; failed: number; receiving: number; verified: number };
  joinMs: Percentiles;
  firstPacketMs: Percentiles;
  received: Record<StreamRole, StreamCounts> & { kbpsPerViewer: Percentiles; totalMbps: number };
  loss: { lost: number; fraction: number };
  rtcp: { nacksSent: number; plisSent: number; received: number };
  verification: { ok: number; failed: number };
  failures: { stage: string; reason: string; count: number }[];
  cost: {
    processes: number;
    cpuMs: number;
    /** Steady state (all joined): share of one core per viewer, percent. */
    cpuPercentPerViewer: number;
    /** Whole run: CPU milliseconds per viewer. */
    cpuMsPerViewer: number;
    rssMiB: number;
    rssKiBPerViewer: number;
  };
  perViewer: FinalViewer[];
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0) : 0);
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(sorted.at(-1) ?? 0) };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function buildReport(o: LoadOptions, runs: RunResult[]): LoadReport {
  const all = runs.flatMap((r) => r.viewers).sort((a, b) => a.index - b.index);
  const sum = (role: StreamRole, key: keyof StreamCounts) => all.reduce((n, v) => n + v.counts[role][key], 0);
  const counts = (role: StreamRole): StreamCounts => ({ packets: sum(role, 'packets'), bytes: sum(role, 'bytes'), lost: sum(role, 'lost') });
  const bytesOf = (v: FinalViewer) => v.counts.audio.bytes + v.counts.video.bytes + v.counts.rtx.bytes;
  const lost = sum('audio', 'lost') + sum('video', 'lost');
  const expected = sum('audio', 'packets') + sum('video', 'packets') + lost;
  const failures = new Map<string, { stage: string; reason: string; count: number }>();
  for (const v of all) {
    if (!v.failure) continue;
    const key = `${v.failure.stage}\0${v.failure.reason}`;
    const entry = failures.get(key) ?? { ...v.failure, count: 0 };
    entry.count++;
    failures.set(key, entry);
  }
  const joined = all.filter((v) => v.joinMs !== undefined).length;
  const cpuMs = runs.reduce((n, r) => n + r.cost.cpuMs, 0);
  // The steady state when there was one (≥ 1 s with everyone joined), else the whole run.
  const cpuPct = (c: RunResult['cost']) => (c.steadyMs >= 1000 ? c.steadyCpuMs / c.steadyMs : c.cpuMs / Math.max(c.wallMs, 1)) * 100;
  const steadyPct = runs.reduce((n, r) => n + cpuPct(r.cost), 0);
  const rss = runs.reduce((n, r) => n + (r.cost.rssPeakBytes - r.cost.rssBeforeBytes), 0);
  const perViewer = Math.max(joined, 1);
  const receiving = all.filter((v) => v.receiving);
  return {
    config: {
      session: o.source?.session ?? '', source: o.source?.kind ?? 'rest', viewers: o.viewers, rate: o.rate, duration: o.duration,
      listen: o.listen, processes: o.processes, sampleEvery: o.sampleEvery,
    },
    viewers: {
      requested: all.length, joined, failed: all.filter((v) => v.failure).length,
      receiving: receiving.length, verified: all.filter((v) => v.verified > 0 && v.verifyFailed === 0).length,
    },
    joinMs: percentiles(all.flatMap((v) => (v.joinMs === undefined ? [] : [v.joinMs]))),
    firstPacketMs: percentiles(all.flatMap((v) => (v.firstPacketMs === undefined ? [] : [v.firstPacketMs]))),
    received: {
      audio: counts('audio'), video: counts('video'), rtx: counts('rtx'),
      kbpsPerViewer: percentiles(receiving.map((v) => (v.receiveSeconds > 0 ? (bytesOf(v) * 8) / v.receiveSeconds / 1000 : 0))),
      totalMbps: round(receiving.reduce((n, v) => n + (v.receiveSeconds > 0 ? (bytesOf(v) * 8) / v.receiveSeconds : 0), 0) / 1e6, 2),
    },
    loss: { lost, fraction: expected ? round(lost / expected, 5) : 0 },
    rtcp: {
      nacksSent: all.reduce((n, v) => n + v.nacksSent, 0),
      plisSent: all.reduce((n, v) => n + v.plisSent, 0),
      received: all.reduce((n, v) => n + v.rtcpReceived, 0),
    },
    verification: { ok: all.reduce((n, v) => n + v.verified, 0), failed: all.reduce((n, v) => n + v.verifyFailed, 0) },
    failures: [...failures.values()].sort((a, b) => b.count - a.count),
    cost: {
      processes: runs.length,
      cpuMs: Math.round(cpuMs),
      cpuPercentPerViewer: round(steadyPct / perViewer, 3),
      cpuMsPerViewer: round(cpuMs / perViewer),
      rssMiB: round(rss / 2 ** 20),
      rssKiBPerViewer: round(rss / 1024 / perViewer),
    },
    perViewer: all,
  };
}

const pct = (p: Percentiles) => `p50 ${p.p50}  p95 ${p.p95}  p99 ${p.p99}  max ${p.max}  (n=${p.count})`;
const mib = (bytes: number) => `${round(bytes / 2 ** 20)} MiB`;

/** The readable summary (stdout). */
export function formatTable(r: LoadReport): string {
  const rows: [string, string][] = [
    ['viewers', `${r.viewers.joined}/${r.viewers.requested} joined, ${r.viewers.failed} failed, ${r.viewers.receiving} receiving at the end, ${r.viewers.verified} verified`],
    ['join time (ms)', pct(r.joinMs)],
    ['first packet (ms)', pct(r.firstPacketMs)],
    ['audio', `${r.received.audio.packets} packets, ${mib(r.received.audio.bytes)}, ${r.received.audio.lost} lost`],
    ['video', `${r.received.video.packets} packets, ${mib(r.received.video.bytes)}, ${r.received.video.lost} lost (+${r.received.rtx.packets} rtx)`],
    ['bitrate (kbit/s/viewer)', `${pct(r.received.kbpsPerViewer)}; total ${r.received.totalMbps} Mbit/s`],
    ['loss', `${r.loss.lost} packets (${round(r.loss.fraction * 100, 3)} %)`],
    ['rtcp', `${r.rtcp.nacksSent} NACK and ${r.rtcp.plisSent} PLI sent, ${r.rtcp.received} RTCP received`],
    ['decrypted sample', `${r.verification.ok} ok, ${r.verification.failed} failed (1 in ${r.config.sampleEvery})`],
    ['tester cost', `${r.cost.cpuPercentPerViewer} % of a core and ${r.cost.rssKiBPerViewer} KiB per viewer (${r.cost.processes} process(es), ${r.cost.cpuMs} ms CPU, +${r.cost.rssMiB} MiB RSS)`],
    ...r.failures.map((f): [string, string] => [`failed: ${f.stage}`, `${f.count} × ${f.reason}`]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

/** One progress line; the bitrate comes from the byte count since the previous line. */
export function formatProgress(p: Progress, prev: Progress | undefined, seconds: number, total: number): string {
  const kbps = prev ? ((p.bytes - prev.bytes) * 8) / 1000 : 0;
  const loss = p.packets + p.lost ? (p.lost / (p.packets + p.lost)) * 100 : 0;
  return `[${seconds}s] joined ${p.joined}/${total}  failed ${p.failed}  receiving ${p.receiving}  verified ${p.verifiedViewers}  ${round(kbps / 1000, 2)} Mbit/s  loss ${round(loss, 3)} %`;
}
