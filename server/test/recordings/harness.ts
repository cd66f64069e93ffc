import { type RecordingFinishedBody, recordingKeys } from '@podlive/shared/recording';
import { signControlToken, type TokenSigningKey } from '@podlive/shared/tokens';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Storage } from '@podlive/storage';
import { bearer, post, type Account } from '../accounts/harness';
import { createLive, startLive } from '../live/harness';

export interface RecorderCall {
  method: string;
  path: string;
  authorization: string | undefined;
  body: unknown;
}

/**
 * The recording service as the control plane sees it: a real HTTP server on a free port that
 * keeps every request (the tests check the tokens and bodies) and answers 202, or `status`, or
 * nothing at all while `hang` is set (until release()).
 */
export class FakeRecorder {
  readonly calls: RecorderCall[] = [];
  status = 202;
  hang = false;
  readonly #events = new EventEmitter();
  readonly #held: ServerResponse[] = [];
  readonly #server: Server;

  private constructor() {
    this.#server = createServer((req, res) => void this.#handle(req, res));
  }

  static async start(): Promise<FakeRecorder> {
    const recorder = new FakeRecorder();
    await new Promise<void>((resolve) => recorder.#server.listen(0, '127.0.0.1', resolve));
    return recorder;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The first call (from index `from`) matching `match`, as soon as it arrives. */
  next(match: (call: RecorderCall) => boolean, from = 0, timeoutMs = 5000): Promise<RecorderCall> {
    const found = this.calls.slice(from).find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#events.off('call', listener);
        reject(new Error('timed out waiting for a call to the recorder'));
      }, timeoutMs);
      const listener = (call: RecorderCall) => {
        if (!match(call)) return;
        clearTimeout(timer);
        this.#events.off('call', listener);
        resolve(call);
      };
      this.#events.on('call', listener);
    });
  }

  /** Answers the requests held while `hang` was set. */
  release(): void {
    for (const res of this.#held.splice(0)) res.writeHead(202).end();
  }

  async close(): Promise<void> {
    this.release();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const call: RecorderCall = { method: req.method ?? '', path: req.url ?? '', authorization: req.headers.authorization, body: text === '' ? undefined : JSON.parse(text) };
    this.calls.push(call);
    this.#events.emit('call', call);
    if (this.hang) this.#held.push(res);
    else res.writeHead(this.status).end();
  }
}

export const isStart = (sessionId: string) => (call: RecorderCall) => call.path === '/control/recordings' && (call.body as { sessionId?: string } | undefined)?.sessionId === sessionId;
export const isStop = (sessionId: string) => (call: RecorderCall) => call.path === `/control/recordings/${sessionId}/stop`;

/** A live of `host` that was live and has ended; its id. */
export async function endedLive(app: FastifyInstance, host: Account, title = 'My show'): Promise<string> {
  const id = await createLive(app, host, { title });
  await startLive(app, host, id);
  const ended = await post(app, `/api/live/${id}/end`, {}, bearer(host.accessToken));
  if (ended.statusCode !== 200) throw new Error(`end failed: ${ended.body}`);
  return id;
}

/**
 * The objects a finished recording has, as the recorder lays them out: the HLS of the live (a
 * master naming one rendition's playlist, which names its init segment and two chunks by relative
 * URIs, closed with #EXT-X-ENDLIST: it is the VOD's too), the manifest, the rendition's MP4 and the
 * thumbnail. Returns their keys.
 */
export async function seedObjects(storage: Storage, sessionId: string): Promise<Record<string, string>> {
  const k = recordingKeys(sessionId);
  const objects: Record<string, [string, string]> = {
    liveMaster: [k.liveMaster, '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nr0/index.m3u8\n'],
    livePlaylist: [k.livePlaylist('r0'), '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-MAP:URI="init-0.mp4"\n#EXTINF:30,\nseg-00000.m4s\n#EXTINF:12,\nseg-00001.m4s\n#EXT-X-ENDLIST\n'],
    init: [k.init('r0', 0), 'init bytes'],
    seg0: [k.segment('r0', 0), 'segment 0'],
    seg1: [k.segment('r0', 1), 'segment 1'],
    manifest: [k.manifest, '{}'],
    mp4: [k.vodMp4('360p'), 'mp4 bytes'],
    thumbnail: [k.thumbnail, 'jpeg bytes'],
  };
  const types: Record<string, string> = { m3u8: 'application/vnd.apple.mpegurl', mp4: 'video/mp4', m4s: 'video/iso.segment', jpg: 'image/jpeg', json: 'application/json' };
  await Promise.all(Object.values(objects).map(([key, body]) => storage.put(key, Buffer.from(body), types[key.split('.').pop() ?? ''] ?? 'application/octet-stream')));
  return Object.fromEntries(Object.entries(objects).map(([name, [key]]) => [name, key]));
}

/** What the finishing job reports for the objects of seedObjects. */
export function readyBody(sessionId: string, overrides: Partial<RecordingFinishedBody> = {}): RecordingFinishedBody {
  const k = recordingKeys(sessionId);
  return {
    status: 'ready',
    durationSec: 42,
    sizeBytes: 9,
    renditions: [{ name: '360p', width: 640, height: 360, bitrateKbps: 800, key: k.vodMp4('360p'), playlistKey: k.livePlaylist('r0') }],
    masterKey: k.liveMaster,
    thumbnailKey: k.thumbnail,
    ...overrides,
  };
}

/**
 * PUT /internal/recordings/:sessionId as the recorder does (with the report token the control
 * plane's stop command gives it: node `server`, scope recording:report, this live), or with `authorization`.
 */
export async function reportFinished(app: FastifyInstance, key: TokenSigningKey, sessionId: string, body: unknown, authorization?: string): Promise<LightMyRequestResponse> {
  const auth = authorization ?? `Bearer ${await signControlToken(key, { node: 'server', scope: 'recording:report', sid: sessionId })}`;
  return app.inject({ method: 'PUT', url: `/internal/recordings/${sessionId}`, payload: body as object, headers: auth === '' ? {} : { authorization: auth } });
}

/** A GET through the app of a URL it made: a path, or an absolute URL on its own origin. */
export function fetchOwn(app: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const { pathname, search } = new URL(url, 'http://localhost:3000');
  return app.inject({ method: 'GET', url: pathname + search, headers });
}
