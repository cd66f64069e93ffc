import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { recordingKeys } from '@podlive/shared/recording';
import type { PublishOptions } from './publish';

/** Where viewers get their media token: the control plane's REST call, or minted here. */
export type TokenSource =
  | { kind: 'rest'; url: string; session: string }
  | { kind: 'mint'; ws: string; /** The control plane's private key (PEM or JWK text). */ key: string; session: string; node: string };

/** `--hls`: headless HLS players instead of WebRTC viewers. */
export interface HlsOptions {
  /** A multivariant or media playlist (--playlist); else the live's low-latency HLS on the control plane. */
  playlist?: string;
  /** Variant by bandwidth, 0 the lowest (default 0). */
  variant: number;
}

export interface LoadOptions {
  /** Absent only with --hls --playlist (no control plane). With --publish its session is set once the live exists. */
  source?: TokenSource;
  /** --publish: create, start and feed a live first, end it at the end. */
  publish?: PublishOptions;
  hls?: HlsOptions;
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

export const USAGE = `podlive-load: join N headless viewers to a live session (REST token, protoo, ICE, DTLS, SRTP),
or play its low-latency HLS with N headless players

  --url <control plane> --session <id>          tokens from GET /api/live/:id/token (the real path)
  --ws <node ws url> --key <file> --session <id> [--node <id>]   mint viewer tokens here with the control
                    plane's private key (MEDIA_TOKEN_PRIVATE_KEY: a PEM/JWK file, or --key=<the key's text>) (default node: local)
  --url <control plane> --publish [--email <e>] [--password-file <f>] [--title <t>] [--layers 3|1]
                    log in as a verified host (PODLIVE_EMAIL, PODLIVE_PASSWORD), create and start a live,
                    publish a simulcast clip to it over WebRTC, load it (no --session), end it at the end
  --hls [--playlist <m3u8 url>] [--hls-variant N]   N HLS players (hls.js's live behaviour) instead of WebRTC
                    viewers; default playlist: <url>/api/media/recordings/<session>/ll/master.m3u8
                    (with --listen: the audio playlist); variant 0 = the lowest bandwidth (0)
  --viewers N (10; players with --hls)  --rate joins/s (10)  --duration s after the last join (30)
  --listen          audio only
  --processes K     spread the viewers over K child processes (1; not with --hls)
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
      publish: { type: 'boolean', default: false },
      email: { type: 'string' },
      'password-file': { type: 'string' },
      title: { type: 'string' },
      layers: { type: 'string', default: '3' },
      hls: { type: 'boolean', default: false },
      playlist: { type: 'string' },
      'hls-variant': { type: 'string', default: '0' },
    },
  });
  const num = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new TypeError(`--${name} must be a number >= ${min}\n\n${USAGE}`);
    return n;
  };
  const fail = (message: string) => new TypeError(`${message}\n\n${USAGE}`);
  const publish = values.publish ? publishOptions(values, fail) : undefined;
  if (publish && !values.url) throw fail('--publish needs --url (the control plane)');
  if (publish && values.session) throw fail('--publish creates its own live: no --session');
  if (!publish && !values.session && !(values.hls && values.playlist)) throw fail('--session is required');
  const session = values.session ?? '';
  let source: TokenSource | undefined;
  if (values.url) source = { kind: 'rest', url: values.url.replace(/\/$/, ''), session };
  else if (values.ws && values.key) source = { kind: 'mint', ws: values.ws.replace(/\/$/, ''), key: keyText(values.key), session, node: values.node };
  else if (!(values.hls && values.playlist)) throw fail('give --url, or --ws and --key');
  const hls = values.hls ? { ...(values.playlist ? { playlist: values.playlist } : {}), variant: Math.floor(num('hls-variant', values['hls-variant'], 0)) } : undefined;
  if (hls && !hls.playlist && source?.kind !== 'rest') throw fail('--hls needs --url (the live HLS is served there) or --playlist');
  const processes = Math.floor(num('processes', values.processes, 1));
  if (hls && processes > 1) throw fail('--hls runs its players in this process (each is a few timers and fetches): no --processes');
  return {
    ...(source ? { source } : {}),
    ...(publish ? { publish } : {}),
    ...(hls ? { hls } : {}),
    viewers: Math.floor(num('viewers', values.viewers, 1)),
    rate: num('rate', values.rate, 0.01),
    duration: num('duration', values.duration, 0),
    listen: values.listen,
    processes,
    sampleEvery: Math.floor(num('sample', values.sample, 1)),
    joinTimeout: num('join-timeout', values['join-timeout'], 1),
    offset: Math.floor(num('offset', values.offset, 0)),
    progress: values.progress,
    ...(values.json ? { json: values.json } : {}),
  };
}

/** The argv a child process gets for its share of the viewers (of the live the parent publishes, if it does). */
export function childArgs(o: LoadOptions, viewers: number, rate: number, offset: number, duration: number): string[] {
  if (!o.source) throw new TypeError('WebRTC viewers need a token source');
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

/** The playlist --hls players start from: --playlist, else the live's low-latency HLS on the control plane. */
export function hlsPlaylistUrl(o: LoadOptions): string {
  if (o.hls?.playlist) return o.hls.playlist;
  if (o.source?.kind !== 'rest' || !o.source.session) throw new TypeError('--hls needs --playlist, or --url and a session');
  const keys = recordingKeys(o.source.session);
  return `${o.source.url}/api/media/${o.listen ? keys.llPlaylist('audio') : keys.llMaster}`;
}

/** --publish's account: --email or PODLIVE_EMAIL; the password from PODLIVE_PASSWORD or --password-file (never argv). */
function publishOptions(
  values: { email?: string | undefined; 'password-file'?: string | undefined; title?: string | undefined; layers: string },
  fail: (message: string) => TypeError,
): PublishOptions {
  const email = values.email ?? process.env.PODLIVE_EMAIL;
  if (!email) throw fail('--publish needs --email or PODLIVE_EMAIL');
  let password = process.env.PODLIVE_PASSWORD;
  if (values['password-file']) {
    try {
      password = readFileSync(values['password-file'], 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      throw fail(`--password-file: cannot read ${values['password-file']} (${(err as Error).message})`);
    }
  }
  if (!password) throw fail('--publish needs PODLIVE_PASSWORD or --password-file');
  if (values.layers !== '1' && values.layers !== '3') throw fail('--layers must be 1 or 3');
  return { email, password, title: values.title ?? `podlive-load ${new Date().toISOString()}`, layers: values.layers === '1' ? 1 : 3 };
}
