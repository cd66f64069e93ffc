import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadOptions } from './options';
import { Viewer, type ViewerResult } from './viewer';

/** Cumulative counters of one process, sent every second (summed across processes by the parent). */
export interface Progress {
  started: number;
  joined: number;
  failed: number;
  /** Viewers with a packet in the last 2 s. */
  receiving: number;
  verifiedViewers: number;
  packets: number;
  bytes: number;
  lost: number;
}

/** What this process spent on its viewers. */
export interface ProcessCost {
  viewers: number;
  wallMs: number;
  cpuMs: number;
  /** CPU while every viewer was joined and receiving (the steady state), and how long that lasted. */
  steadyCpuMs: number;
  steadyMs: number;
  rssBeforeBytes: number;
  rssPeakBytes: number;
}

export interface FinalViewer extends ViewerResult {
  /** A packet in the last 2 s before the run ended. */
  receiving: boolean;
  receiveSeconds: number;
}

export interface RunResult {
  viewers: FinalViewer[];
  cost: ProcessCost;
}

export interface RunHooks {
  /** Every second, with the cumulative counters. */
  progress?: (p: Progress) => void;
  /** After the duration, before the viewers close (tests read the node's stats here). */
  beforeClose?: (viewers: readonly Viewer[]) => Promise<void>;
}

const RECEIVING_WINDOW_MS = 2000;

export function progressOf(viewers: readonly Viewer[]): Progress {
  const now = performance.now();
  const p: Progress = { started: viewers.length, joined: 0, failed: 0, receiving: 0, verifiedViewers: 0, packets: 0, bytes: 0, lost: 0 };
  for (const v of viewers) {
    if (v.joined) p.joined++;
    if (v.failed) p.failed++;
    if (v.counter.lastPacketAt > now - RECEIVING_WINDOW_MS && !v.failed) p.receiving++;
    if (v.verified > 0) p.verifiedViewers++;
    const t = v.counter.totals();
    p.packets += t.audio.packets + t.video.packets + t.rtx.packets;
    p.bytes += t.audio.bytes + t.video.bytes + t.rtx.bytes;
    p.lost += t.audio.lost + t.video.lost;
  }
  return p;
}

/** Joins this process's viewers at the given rate, keeps them for the duration, and collects the results. */
export async function runViewers(o: LoadOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const source = o.source;
  if (!source?.session) throw new TypeError('WebRTC viewers need a token source and a session');
  const viewers: Viewer[] = [];
  const joins: Promise<void>[] = [];
  const cpu0 = process.cpuUsage();
  const rssBefore = process.memoryUsage().rss;
  let rssPeak = rssBefore;
  const t0 = performance.now();
  const ticker = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    hooks.progress?.(progressOf(viewers));
  }, 1000);
  try {
    for (let i = 0; i < o.viewers; i++) {
      const due = t0 + (i * 1000) / o.rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const viewer = new Viewer({ source, index: o.offset + i, listen: o.listen, sampleEvery: o.sampleEvery });
      viewers.push(viewer);
      joins.push(viewer.join(o.joinTimeout * 1000));
    }
    const lastStarted = performance.now();
    await Promise.all(joins);
    const steadyFrom = performance.now();
    const cpuSteady0 = process.cpuUsage();
    const rest = lastStarted + o.duration * 1000 - performance.now();
    if (rest > 0) await sleep(rest);
    const steadyMs = performance.now() - steadyFrom;
    const steadyCpu = process.cpuUsage(cpuSteady0);
    rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
    hooks.progress?.(progressOf(viewers));
    await hooks.beforeClose?.(viewers);
    const now = performance.now();
    const results = viewers.map((v): FinalViewer => {
      const { firstPacketAt, lastPacketAt } = v.counter;
      return {
        ...v.result(),
        receiving: !v.failed && lastPacketAt > now - RECEIVING_WINDOW_MS,
        receiveSeconds: firstPacketAt ? (lastPacketAt - firstPacketAt) / 1000 : 0,
      };
    });
    const used = process.cpuUsage(cpu0);
    return {
      viewers: results,
      cost: {
        viewers: viewers.length,
        wallMs: now - t0,
        cpuMs: (used.user + used.system) / 1000,
        steadyCpuMs: (steadyCpu.user + steadyCpu.system) / 1000,
        steadyMs,
        rssBeforeBytes: rssBefore,
        rssPeakBytes: rssPeak,
      },
    };
  } finally {
    clearInterval(ticker);
    await Promise.all(viewers.map((v) => v.close()));
  }
}
