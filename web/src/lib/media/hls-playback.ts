import type Hls from 'hls.js';
import type { ErrorData, HlsConfig } from 'hls.js';

/**
 * hls.js settings for the live low-latency playlists (1 s CMAF segments, a window of 6, no partial
 * segments, target duration 1). Latency is counted back from the playlist's live edge (the end of
 * its last whole segment, which is itself about a segment behind the host):
 * - `liveSyncDuration: 1.5`: start and stay 1.5 s behind that edge. In seconds, not a count of
 *   target durations: the target duration rounds up whatever segment ran long (a run's first
 *   one, from its first key frame to the first boundary, often lasts 1.5 s and makes it 2), which
 *   doubled the latency (measured: 4 s behind the edge, 5.6 s glass to glass). At 1 s segments
 *   the playlist is reloaded every second, so 1.5 s of buffer survives a late reload; 1 s would
 *   stall on every hiccup. 2 s measured 3.1–3.4 s glass to glass here, but 4.2 s (p95 4.6 s) in
 *   a CI run on a loaded machine, where hls.js sat a second above its target.
 * - `liveMaxLatencyDuration: 5`: fallen 5 s behind (a stall, a background tab) → jump back to the
 *   sync point, before the 6-segment window slides away under the playhead.
 * - `maxLiveSyncPlaybackRate: 1.1`: drifting behind the target (after a rebuffer) is made up by
 *   playing up to 10 % faster instead of a jump; inaudible on speech.
 * - `lowLatencyMode: true`: only changes anything with EXT-X-PART / blocking reloads, which these
 *   playlists don't have yet; left on so a server that adds parts gets them used.
 * - `backBufferLength: 10`: a live may last hours; keep only a little behind the playhead.
 * - `enableWorker: false`: fMP4 needs no transmuxing, and a blob: worker is outside the page's CSP.
 */
export const LIVE_HLS_CONFIG: Partial<HlsConfig> = {
  enableWorker: false,
  lowLatencyMode: true,
  liveSyncDuration: 1.5,
  liveMaxLatencyDuration: 5,
  maxLiveSyncPlaybackRate: 1.1,
  liveDurationInfinity: true,
  backBufferLength: 10,
};

/** Fatal media errors recovered (recoverMediaError, then swapAudioCodec too) before giving up. */
const MEDIA_RECOVERIES = 2;
/** Fatal network errors (hls.js has already retried per its load policies) restarted with startLoad before giving up. */
const NETWORK_RESTARTS = 2;
/** A fragment buffered this long after a recovery: the recovery worked, the counts start over. */
const HEALTHY_MS = 10_000;

export interface HlsPlaybackOptions {
  /**
   * This playback is over: hls.js could not recover (or the browser's own HLS failed). It is
   * destroyed already; the owner starts another (after asking the server again).
   */
  onFailed: (reason: string) => void;
  /** The element played its first frame (or, for audio, its first sound). */
  onPlaying?: () => void;
  /** Checked once hls.js is loaded: true → nothing is attached and `start` answers null. */
  cancelled?: () => boolean;
}

/**
 * One live HLS playlist playing in one media element: hls.js (Media Source Extensions), or the
 * browser's own HLS (Safari on iOS, which has no MSE). hls.js is imported when the first one starts,
 * so it stays out of the pages' main chunks.
 */
export class HlsPlayback {
  #destroyed = false;
  #hls: Hls | null = null;
  #unlisten: () => void = () => undefined;

  private constructor(
    readonly element: HTMLMediaElement,
    readonly url: string,
    readonly options: HlsPlaybackOptions,
  ) {}

  /** Attaches `url` to `element`; throws when this browser can play HLS neither way. */
  static async start(element: HTMLMediaElement, url: string, options: HlsPlaybackOptions): Promise<HlsPlayback | null> {
    const { default: HlsClass } = await import('hls.js');
    if (options.cancelled?.()) return null;
    const playback = new HlsPlayback(element, url, options);
    element.srcObject = null; // a MediaStream would win over the src hls.js sets
    if (HlsClass.isSupported()) playback.#startHlsJs(HlsClass);
    else if (element.canPlayType('application/vnd.apple.mpegurl')) playback.#startNative();
    else throw new Error('This browser cannot play HLS (no Media Source Extensions, no native HLS)');
    const playing = () => !playback.#destroyed && options.onPlaying?.();
    element.addEventListener('playing', playing, { once: true });
    const unlisten = playback.#unlisten;
    playback.#unlisten = () => {
      unlisten();
      element.removeEventListener('playing', playing);
    };
    return playback;
  }

  /** The hls.js player, or null (the browser's own HLS, or destroyed). */
  get hls(): Hls | null {
    return this.#hls;
  }

  /** Seconds behind the playlist's live edge as hls.js estimates it (null without hls.js). */
  get latency(): number | null {
    return this.#hls ? this.#hls.latency : null;
  }

  get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Stops loading and empties the element. Calling it twice does nothing. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#unlisten();
    if (this.#hls) {
      this.#hls.destroy(); // detaches: removes the element's src and reloads it empty
      this.#hls = null;
    } else if (this.element.getAttribute('src') === this.url) {
      this.element.removeAttribute('src');
      this.element.load();
    }
  }

  #fail(reason: string): void {
    if (this.#destroyed) return;
    this.destroy();
    this.options.onFailed(reason);
  }

  #startHlsJs(HlsClass: typeof Hls): void {
    const hls = new HlsClass(LIVE_HLS_CONFIG);
    this.#hls = hls;
    let mediaRecoveries = 0;
    let networkRestarts = 0;
    let recoveredAt = 0;
    let restart: ReturnType<typeof setTimeout> | undefined;
    this.#unlisten = () => clearTimeout(restart);
    hls.on(HlsClass.Events.FRAG_BUFFERED, () => {
      if (recoveredAt && performance.now() - recoveredAt > HEALTHY_MS) mediaRecoveries = networkRestarts = recoveredAt = 0;
    });
    // Fatal errors as hls.js documents recovering from them ("Fatal Error Recovery" in its API.md).
    hls.on(HlsClass.Events.ERROR, (_event, data: ErrorData) => {
      if (!data.fatal || this.#destroyed) return;
      if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR && mediaRecoveries < MEDIA_RECOVERIES) {
        // A second one soon after the first: the audio codec hls.js guessed may be the problem.
        if (mediaRecoveries++ > 0) hls.swapAudioCodec();
        recoveredAt = performance.now();
        return hls.recoverMediaError();
      }
      if (data.type === HlsClass.ErrorTypes.NETWORK_ERROR && networkRestarts < NETWORK_RESTARTS) {
        // hls.js has spent its retries already: restarting at once would just loop, so wait a bit.
        networkRestarts++;
        recoveredAt = performance.now();
        clearTimeout(restart);
        restart = setTimeout(() => !this.#destroyed && hls.startLoad(), 1000 * networkRestarts);
        return;
      }
      const status = data.response?.code;
      this.#fail(`HLS ${data.type} error: ${data.details}${status ? ` (HTTP ${status})` : ''}`);
    });
    // Starting takes a moment (the first segments load, play() may be refused with sound and
    // retried muted) while the live edge moves on: the first frame then plays seconds further
    // behind than the sync point, which 10 % faster playback takes half a minute to make up
    // (measured: 6 s glass to glass for the first seconds). Once playing, a start more than half
    // a second late jumps to the sync point instead.
    const element = this.element;
    const caughtUp = () => {
      const behind = hls.latency;
      const sync = hls.liveSyncPosition;
      if (sync !== null && Number.isFinite(behind) && behind > (LIVE_HLS_CONFIG.liveSyncDuration ?? 2) + 0.5) element.currentTime = sync;
    };
    element.addEventListener('playing', caughtUp, { once: true });
    const unlisten = this.#unlisten;
    this.#unlisten = () => {
      unlisten();
      element.removeEventListener('playing', caughtUp);
    };
    hls.loadSource(this.url);
    hls.attachMedia(element);
  }

  #startNative(): void {
    const element = this.element;
    const failed = () => this.#fail(`The browser's HLS player failed (${element.error?.message || `error ${element.error?.code ?? '?'}`})`);
    element.addEventListener('error', failed);
    this.#unlisten = () => element.removeEventListener('error', failed);
    element.src = this.url;
  }
}
