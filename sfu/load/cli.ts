import { writeFile } from 'node:fs/promises';
import { CHILD_ENV, childMain, runLoad } from './cluster';
import { parseOptions, type LoadOptions } from './options';
import { formatProgress, formatTable } from './report';
import type { Progress } from './runner';

/**
 * podlive-load: joins N headless viewers to a live session through the real path and reports
 * what they received. Progress on stderr, the table on stdout, the JSON with --json.
 * Exit code: 0 when every viewer joined and was receiving at the end, 1 otherwise, 2 on bad usage.
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
  const tty = process.stderr.isTTY && o.progress;
  const t0 = Date.now();
  let prev: Progress | undefined;
  const report = await runLoad(o, {
    progress: (p) => {
      if (!o.progress) return;
      const line = formatProgress(p, prev, Math.round((Date.now() - t0) / 1000), o.viewers);
      prev = p;
      process.stderr.write(tty ? `\r${line}\x1b[K` : `${line}\n`);
    },
  });
  if (tty) process.stderr.write('\n');
  process.stdout.write(`${formatTable(report)}\n`);
  if (o.json) {
    await writeFile(o.json, `${JSON.stringify(report, null, 2)}\n`);
    process.stderr.write(`report written to ${o.json}\n`);
  }
  return report.viewers.joined === o.viewers && report.viewers.receiving === o.viewers ? 0 : 1;
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
