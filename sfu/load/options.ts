import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** Where viewers get their media token: the control plane's REST call, or minted here. */
export type TokenSource =
  | { kind: 'rest'; url: string; session: string }
  | { kind: 'mint'; ws: string; /** The control plane's private key (PEM or JWK text). */ key: string; session: string; node: string };

export interface LoadOptions {
  source: TokenSource;
  /** Viewers to join (default 10). */
  viewers: number;
  /** Joins started per second (default 10). */
  rate: number;
  /** Seconds to stay after the last join started (default 30). */
  duration: number;
  /** Audio only: no video consumers (default false). */
  listen: boolean;
  /** Child processes sharing the viewers (default 1: this process). */
  processes: number;
  /** Write the JSON report here too. */
  json?: string;
  /** Decrypt 1 packet in N to verify the media (default 50). */
  sampleEvery: number;
  /** Seconds a join may take before it counts as failed (default 20). */
  joinTimeout: number;
  /** First viewer index (children of --processes get disjoint ranges). */
  offset: number;
  /** Progress line on stderr (default true). */
  progress: boolean;
}

export const USAGE = `podlive-load: join N headless viewers to a live session (REST token, protoo, ICE, DTLS, SRTP)

  --url <control plane> --session <id>          tokens from GET /api/live/:id/token (the real path)
  --ws <node ws url> --key <file> --session <id> [--node <id>]   mint viewer tokens here with the control
                    plane's private key (MEDIA_TOKEN_PRIVATE_KEY: a PEM/JWK file, or --key=<the key's text>) (default node: local)
  --viewers N (10)  --rate joins/s (10)  --duration s after the last join (30)
  --listen          audio only
  --processes K     spread the viewers over K child processes (1)
  --sample N        decrypt 1 packet in N to verify it (50)
  --join-timeout s  (20)   --json <file>   --no-progress`;

/** Parses argv (without node and script); throws TypeError with the usage on bad input. */
export function parseOptions(argv: string[]): LoadOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowNegative: true,
    options: {
      url: { type: 'string' },
      ws: { type: 'string' },
      key: { type: 'string' },
      session: { type: 'string' },
      node: { type: 'string', default: 'local' },
      viewers: { type: 'string', default: '10' },
      rate: { type: 'string', default: '10' },
      duration: { type: 'string', default: '30' },
      listen: { type: 'boolean', default: false },
      processes: { type: 'string', default: '1' },
      sample: { type: 'string', default: '50' },
      'join-timeout': { type: 'string', default: '20' },
      offset: { type: 'string', default: '0' },
      json: { type: 'string' },
      progress: { type: 'boolean', default: true },
    },
  });
  const num = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new TypeError(`--${name} must be a number >= ${min}\n\n${USAGE}`);
    return n;
  };
  if (!values.session) throw new TypeError(`--session is required\n\n${USAGE}`);
  let source: TokenSource;
  if (values.url) source = { kind: 'rest', url: values.url.replace(/\/$/, ''), session: values.session };
  else if (values.ws && values.key) source = { kind: 'mint', ws: values.ws.replace(/\/$/, ''), key: keyText(values.key), session: values.session, node: values.node };
  else throw new TypeError(`give --url, or --ws and --key\n\n${USAGE}`);
  return {
    source,
    viewers: Math.floor(num('viewers', values.viewers, 1)),
    rate: num('rate', values.rate, 0.01),
    duration: num('duration', values.duration, 0),
    listen: values.listen,
    processes: Math.floor(num('processes', values.processes, 1)),
    sampleEvery: Math.floor(num('sample', values.sample, 1)),
    joinTimeout: num('join-timeout', values['join-timeout'], 1),
    offset: Math.floor(num('offset', values.offset, 0)),
    progress: values.progress,
    ...(values.json ? { json: values.json } : {}),
  };
}

/** The argv a child process gets for its share of the viewers. */
export function childArgs(o: LoadOptions, viewers: number, rate: number, offset: number, duration: number): string[] {
  const src = o.source.kind === 'rest'
    ? ['--url', o.source.url]
    : ['--ws', o.source.ws, `--key=${o.source.key}`, '--node', o.source.node];
  return [
    ...src, '--session', o.source.session, '--viewers', String(viewers), '--rate', String(rate),
    '--duration', String(duration), '--sample', String(o.sampleEvery), '--join-timeout', String(o.joinTimeout),
    '--offset', String(offset), '--no-progress', ...(o.listen ? ['--listen'] : []),
  ];
}

/** --key: the key's text as given (PEM or JWK), else the file it names. */
function keyText(value: string): string {
  if (/^\s*(-----BEGIN|\{)/.test(value)) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new TypeError(`--key: cannot read ${value} (${(err as Error).message})\n\n${USAGE}`);
  }
}
