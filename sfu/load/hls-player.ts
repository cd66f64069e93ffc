import { parse, type types } from 'hls-parser';

export interface HlsPlayerOptions {
  /** A multivariant playlist (a variant is picked) or a media playlist. */
  playlist: string;
  /** Variant by bandwidth, 0 the lowest; past the last: the highest. */
  variant: number;
  index: number;
  /** Start this many target durations behind the live edge (hls.js liveSyncDurationCount, default 3). */
  liveSyncCount?: number;
  /** A request not answered by then is an error (default 10 s). */
  requestTimeoutMs?: number;
}

export interface HlsPlayerResult {
  index: number;
  /** The media playlist played and its advertised bandwidth (0 when given a media playlist). */
  variant?: { url: string; bandwidth: number };
  /** Start → the first segment buffered, playback starting (ms). */
  startMs?: number;
  requests: number;
  playlists: number;
  /** Playlist reloads that brought no new segment. */
  unchanged: number;
  inits: number;
  segments: number;
  bytes: number;
  /** Once a second while playing: now − the program date time of the playhead (ms). */
  latencyMs: number[];
  /** Each segment as it arrives: now − the program date time of its end (ms). */
  arrivalMs: number[];
  /** The buffer ran dry while playing (not at the end of an ended stream). */
  stalls: number;
  stallMs: number;
  /** The next segment had left the playlist's window: jumped to the live sync point. */
  skips: number;
  /** Playing (or played to EXT-X-ENDLIST) when the run ended. */
  playing: boolean;
  ended: boolean;
  /** Failed requests by what and why ("segment: HTTP 404"), retried ones included. */
  errors: Record<string, number>;
  /** Why the player never started (the multivariant playlist unreadable, no such variant). */
  failure?: string;
}

type Segment = types.Segment & { pdt: number | undefined };
type State = 'loading' | 'playing' | 'stalled' | 'ended';

const SEGMENT_RETRIES = 3;
const RETRY_MS = 500;
const MIN_RELOAD_MS = 100;

/** A request that failed, with what to count it as. */
class RequestError extends Error {
  override name = 'RequestError';
}

/**
 * One headless HLS player doing on a live playlist what hls.js does, without decoding: it loads
 * the multivariant playlist and picks a variant, reloads the media playlist every target duration
 * (half of it after a reload that brought nothing new, less the time the request took), fetches
 * each EXT-X-MAP's init segment once and every new segment in order, and keeps a simulated
 * buffer. Playback starts at the segment `liveSyncCount` target durations behind the live edge as
 * soon as it is buffered; the playhead then advances in real time, and a stall is the playhead
 * reaching the end of the buffer (it resumes with the next segment). A segment that left the
 * window before it was fetched makes the player jump to the live sync point (a skip).
 *
 * Timing is computed, not polled: the playhead's position follows from the clock whenever the
 * buffer changes or latency is sampled, so one player is a few timers and one fetch at a time.
 */
export class HlsPlayer {
  readonly #o: Required<HlsPlayerOptions>;
  readonly #abort = new AbortController();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #result: HlsPlayerResult;
  #mediaUrl = '';
  #targetMs = 1000;
  #nextMsn: number | undefined;
  #mapUrl: string | undefined;
  #queue: Segment[] = [];
  #fetching = false;
  #endlist = false;
  #jump = false;
  #t0 = 0;
  // Simulated playback, in seconds of media since the first buffered segment.
  #state: State = 'loading';
  #playhead = 0;
  #bufferedEnd = 0;
  #clock = 0;
  #stallFrom = 0;
  /** Buffered media ranges with the program date time of their start, oldest dropped as played. */
  #ranges: { start: number; end: number; pdt: number | undefined }[] = [];
  #closed = false;

  constructor(options: HlsPlayerOptions) {
    this.#o = { liveSyncCount: 3, requestTimeoutMs: 10_000, ...options };
    this.#result = {
      index: options.index, requests: 0, playlists: 0, unchanged: 0, inits: 0, segments: 0, bytes: 0,
      latencyMs: [], arrivalMs: [], stalls: 0, stallMs: 0, skips: 0, playing: false, ended: false, errors: {},
    };
  }

  get state(): State {
    return this.#state;
  }

  get segments(): number {
    return this.#result.segments;
  }

  get bytes(): number {
    return this.#result.bytes;
  }

  get stalls(): number {
    return this.#result.stalls;
  }

  get failed(): boolean {
    return this.#result.failure !== undefined;
  }

  /** Loads the multivariant playlist and starts; never throws (a failure is in the result). */
  async start(): Promise<void> {
    this.#t0 = performance.now();
    try {
      const { text, url } = await this.#get('playlist', this.#o.playlist);
      const playlist = parse(text);
      if (playlist.isMasterPlaylist) {
        const variants = playlist.variants.filter((v) => !v.isIFrameOnly).sort((a, b) => a.bandwidth - b.bandwidth);
        const chosen = variants[Math.min(this.#o.variant, variants.length - 1)];
        if (!chosen) throw new RequestError('no variant in the multivariant playlist');
        this.#mediaUrl = new URL(chosen.uri, url).href;
        this.#result.variant = { url: this.#mediaUrl, bandwidth: chosen.bandwidth };
        await this.#reload(true);
      } else {
        this.#mediaUrl = url;
        this.#result.variant = { url, bandwidth: 0 };
        this.#onPlaylist(playlist, 0);
      }
      this.#every(1000, () => this.#sample());
    } catch (err) {
      this.#result.failure = (err as Error).message;
    }
  }

  /** Loads the media playlist; unreadable at the first load (not a failed request): the player fails. */
  async #reload(first = false): Promise<void> {
    if (this.#closed) return;
    const t0 = performance.now();
    try {
      const { text } = await this.#get('playlist', this.#mediaUrl);
      const playlist = parse(text);
      if (playlist.isMasterPlaylist) throw new RequestError('playlist: a multivariant playlist where a media playlist was expected');
      this.#onPlaylist(playlist, performance.now() - t0);
    } catch (err) {
      if (this.#closed) return;
      this.#error(err);
      if (first && !(err instanceof RequestError)) throw err;
      this.#after(this.#targetMs / 2, () => void this.#reload());
    }
  }

  #onPlaylist(playlist: types.MediaPlaylist, requestMs: number): void {
    this.#result.playlists++;
    this.#targetMs = playlist.targetDuration * 1000;
    const segments = this.#withPdt(playlist.segments);
    const first = segments[0]?.mediaSequenceNumber ?? 0;
    let fresh: Segment[];
    if (this.#nextMsn === undefined || this.#nextMsn < first) {
      if (this.#nextMsn !== undefined) {
        this.#result.skips++;
        this.#jump = true;
        this.#queue = [];
      }
      fresh = playlist.endlist && this.#nextMsn === undefined ? segments : segments.slice(this.#syncIndex(segments));
    } else {
      fresh = segments.filter((s) => s.mediaSequenceNumber >= (this.#nextMsn ?? 0));
    }
    const last = fresh.at(-1);
    if (last) this.#nextMsn = last.mediaSequenceNumber + 1;
    else this.#result.unchanged++;
    this.#queue.push(...fresh);
    this.#endlist = playlist.endlist;
    void this.#fetchQueue();
    if (!playlist.endlist) {
      const interval = (fresh.length > 0 ? this.#targetMs : this.#targetMs / 2) - requestMs;
      this.#after(Math.max(MIN_RELOAD_MS, interval), () => void this.#reload());
    }
  }

  /** The segment holding the live sync point: liveSyncCount target durations before the end. */
  #syncIndex(segments: Segment[]): number {
    let behind = 0;
    for (let i = segments.length - 1; i >= 0; i--) {
      behind += segments[i]?.duration ?? 0;
      if (behind * 1000 >= this.#o.liveSyncCount * this.#targetMs) return i;
    }
    return 0;
  }

  /** Program date times: the tag's where given, else the previous segment's end. */
  #withPdt(segments: types.Segment[]): Segment[] {
    let next: number | undefined;
    return segments.map((s) => {
      const pdt = s.programDateTime?.getTime() ?? (s.discontinuity ? undefined : next);
      next = pdt === undefined ? undefined : pdt + s.duration * 1000;
      return Object.assign(s, { pdt });
    });
  }

  /** One segment at a time, in order, as hls.js's stream controller loads fragments. */
  async #fetchQueue(): Promise<void> {
    if (this.#fetching) return;
    this.#fetching = true;
    try {
      for (let segment = this.#queue.shift(); segment && !this.#closed; segment = this.#queue.shift()) {
        if (segment.map && new URL(segment.map.uri, this.#mediaUrl).href !== this.#mapUrl) {
          const mapUrl = new URL(segment.map.uri, this.#mediaUrl).href;
          if (!(await this.#withRetries('init', mapUrl))) continue;
          this.#mapUrl = mapUrl;
          this.#result.inits++;
        }
        const bytes = await this.#withRetries('segment', new URL(segment.uri, this.#mediaUrl).href);
        if (bytes === undefined || this.#closed) continue;
        this.#result.segments++;
        if (segment.pdt !== undefined) this.#result.arrivalMs.push(Date.now() - (segment.pdt + segment.duration * 1000));
        this.#append(segment);
      }
    } finally {
      this.#fetching = false;
    }
    if (this.#endlist && this.#queue.length === 0) this.#advance();
  }

  async #withRetries(what: 'init' | 'segment', url: string): Promise<number | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.#get(what, url, true)).bytes;
      } catch (err) {
        if (this.#closed) return undefined;
        this.#error(err);
        if (attempt >= SEGMENT_RETRIES) return undefined;
        await new Promise<void>((resolve) => this.#after(RETRY_MS, resolve));
      }
    }
  }

  async #get(what: string, url: string, binary = false): Promise<{ text: string; bytes: number; url: string }> {
    this.#result.requests++;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#o.requestTimeoutMs)]) });
    } catch (err) {
      const e = err as Error;
      throw new RequestError(`${what}: ${e.name === 'TimeoutError' ? 'timeout' : (e.cause as Error | undefined)?.message ?? e.message}`);
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new RequestError(`${what}: HTTP ${res.status}`);
    }
    if (binary) {
      const body = await res.arrayBuffer();
      this.#result.bytes += body.byteLength;
      return { text: '', bytes: body.byteLength, url: res.url || url };
    }
    const text = await res.text();
    this.#result.bytes += Buffer.byteLength(text);
    return { text, bytes: Buffer.byteLength(text), url: res.url || url };
  }

  #error(err: unknown): void {
    const key = err instanceof RequestError ? err.message : `error: ${(err as Error).message}`;
    this.#result.errors[key] = (this.#result.errors[key] ?? 0) + 1;
  }

  /** A segment buffered: playback starts, resumes after a stall, or (after a skip) jumps to it. */
  #append(segment: Segment): void {
    const now = this.#advance();
    if (this.#jump) {
      this.#jump = false;
      this.#playhead = this.#bufferedEnd;
      this.#ranges = [];
      if (this.#state === 'stalled') this.#resume(now);
    }
    this.#ranges.push({ start: this.#bufferedEnd, end: this.#bufferedEnd + segment.duration, pdt: segment.pdt });
    this.#bufferedEnd += segment.duration;
    if (this.#state === 'loading') {
      this.#state = 'playing';
      this.#clock = now;
      this.#result.startMs = now - this.#t0;
    } else if (this.#state === 'stalled') this.#resume(now);
  }

  #resume(now: number): void {
    this.#result.stallMs += now - this.#stallFrom;
    this.#state = 'playing';
    this.#clock = now;
  }

  /** Moves the playhead to now; the buffer running dry is a stall, or the end after EXT-X-ENDLIST. */
  #advance(): number {
    const now = performance.now();
    if (this.#state !== 'playing') return now;
    this.#playhead += (now - this.#clock) / 1000;
    this.#clock = now;
    if (this.#playhead >= this.#bufferedEnd) {
      const dryAt = now - (this.#playhead - this.#bufferedEnd) * 1000;
      this.#playhead = this.#bufferedEnd;
      if (this.#endlist && this.#queue.length === 0 && !this.#fetching) {
        this.#state = 'ended';
        this.#result.ended = true;
      } else {
        this.#state = 'stalled';
        this.#stallFrom = dryAt;
        this.#result.stalls++;
      }
    }
    while (this.#ranges.length > 1 && (this.#ranges[0]?.end ?? 0) <= this.#playhead) this.#ranges.shift();
    return now;
  }

  #sample(): void {
    this.#advance();
    if (this.#state !== 'playing') return;
    const range = this.#ranges.find((r) => r.end > this.#playhead) ?? this.#ranges.at(-1);
    if (range?.pdt === undefined) return;
    this.#result.latencyMs.push(Date.now() - (range.pdt + (this.#playhead - range.start) * 1000));
  }

  #after(ms: number, fn: () => void): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    this.#timers.add(timer);
  }

  /** The counts so far (a stall still going counts up to now). */
  result(): HlsPlayerResult {
    const now = this.#advance();
    const stallMs = this.#result.stallMs + (this.#state === 'stalled' ? now - this.#stallFrom : 0);
    return {
      ...this.#result,
      latencyMs: [...this.#result.latencyMs],
      arrivalMs: [...this.#result.arrivalMs],
      errors: { ...this.#result.errors },
      stallMs,
      playing: this.#state === 'playing' || this.#state === 'ended',
    };
  }

  /** Stops reloading and fetching. Twice does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#abort.abort();
  }
}
