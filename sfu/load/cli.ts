import { writeFile } from 'node:fs/promises';
import { CHILD_ENV, childMain, runLoad } from './cluster';
import { buildHlsReport, formatHlsProgress, formatHlsTable } from './hls-report';
import { runPlayers, type HlsProgress } from './hls-runner';
import { hlsPlaylistUrl, parseOptions, type LoadOptions } from './options';
import { publishLive, type PublishedLive } from './publish';
import { formatProgress, formatTable } from './report';
import type { Progress } from './runner';

/**
 * podlive-load: joins N headless viewers to a live session through the real path (or plays its
 * low-latency HLS with N headless players, --hls) and reports what they received; with --publish
 * it first creates, starts and feeds the live as its host, and ends it at the end.
 * Progress on stderr, the table on stdout, the JSON with --json.
 * Exit code: 0 when every viewer joined and was receiving at the end (every player playing), 1 otherwise, 2 on bad usage.
 */
async function main(argv: string[]): Promise<number> {
  let o: LoadOptions;
  try {
    // pnpm scripts may pass their `--` separators through.
    o = parseOptions(argv.slice(argv.findIndex((a) => a !== '--')));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (process.env[CHILD_ENV] && process.send) {
    await childMain(o);
    return 0;
  }
  let live: PublishedLive | undefined;
  if (o.publish && o.source?.kind === 'rest') {
    live = await publishLive(o.source.url, o.publish);
    o = { ...o, source: { ...o.source, session: live.session } };
    process.stderr.write(`live ${live.session} started; publishing ${live.publisher.producers.map((p) => p.kind).join(' and ')}\n`);
    const onSignal = () => void live?.end().finally(() => process.exit(130));
    process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  }
  try {
    // A live just started has no HLS until the recorder's first segments: wait for it, then play.
    if (live && o.hls) await untilServed(hlsPlaylistUrl(o), 60_000);
    return await (o.hls ? hls(o) : webrtc(o));
  } finally {
    if (live) {
      await live.end().then(
        () => process.stderr.write(`live ${live.session} ended\n`),
        (err: unknown) => process.stderr.write(`ending live ${live.session} failed: ${(err as Error).message}\n`),
      );
    }
  }
}

/** Asks for `url` every second until it is served (or throws after `timeoutMs`). */
async function untilServed(url: string, timeoutMs: number): Promise<void> {
  process.stderr.write(`waiting for ${url}\n`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(async (res) => (await res.body?.cancel(), res.status), () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} not served after ${timeoutMs / 1000} s (last answer: ${status || 'none'}); is the live recorded?`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** A progress line every second: rewritten in place on a terminal. */
function progressWriter<P>(o: LoadOptions, format: (p: P, prev: P | undefined, seconds: number, total: number) => string) {
  const tty = process.stderr.isTTY && o.progress;
  const t0 = Date.now();
  let prev: P | undefined;
  return {
    progress: (p: P) => {
      if (!o.progress) return;
      const line = format(p, prev, Math.round((Date.now() - t0) / 1000), o.viewers);
      prev = p;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
    done: () => {
      if (tty) process.stderr.write('\n');
    },
  };
}

async function writeReport(o: LoadOptions, report: unknown): Promise<void> {
  if (!o.json) return;
  await writeFile(o.json, `${JSON.stringify(report, null, 2)}\n`);
  process.stderr.write(`report written to ${o.json}\n`);
}

async function webrtc(o: LoadOptions): Promise<number> {
  const writer = progressWriter<Progress>(o, formatProgress);
  const report = await runLoad(o, { progress: writer.progress });
  writer.done();
  process.stdout.write(`${formatTable(report)}\n`);
  await writeReport(o, report);
  return report.viewers.joined === o.viewers && report.viewers.receiving === o.viewers ? 0 : 1;
}

async function hls(o: LoadOptions): Promise<number> {
  const writer = progressWriter<HlsProgress>(o, formatHlsProgress);
  const report = buildHlsReport(o, await runPlayers(o, { progress: writer.progress }));
  writer.done();
  process.stdout.write(`${formatHlsTable(report)}\n`);
  await writeReport(o, report);
  return report.players.failed === 0 && report.players.playing === o.viewers ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // werift keeps timers (ICE consent, DTLS retransmission) alive after close.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`podlive-load failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
