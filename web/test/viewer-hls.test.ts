import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ViewerJoin } from '@podlive/shared/live';

/**
 * ViewerMedia's HLS path without a browser: the token route, the MediaSession and hls.js are
 * stand-ins, the timers fake. What is checked is the order of things: HLS plays while the token
 * route says so, and WebRTC replaces it only once its session plays the host.
 */
const answers: ViewerJoin[] = [];
const request = vi.fn(async () => {
  const next = answers.shift();
  if (!next) throw new Error('no answer queued');
  return next;
});
vi.mock('$lib/live/request', async (importOriginal) => ({ ...(await importOriginal<object>()), request }));

interface FakePlayback { element: unknown; url: string; hls: null; destroy: ReturnType<typeof vi.fn> }
const playbacks: FakePlayback[] = [];
vi.mock('$lib/media/hls-playback', () => ({
  HlsPlayback: {
    start: vi.fn(async (element: unknown, url: string) => {
      const playback = { element, url, hls: null, destroy: vi.fn() };
      playbacks.push(playback);
      return playback;
    }),
  },
}));

/** Whether the fake session's host video has frames yet. */
let flowing = false;
const sessions: { close: ReturnType<typeof vi.fn> }[] = [];
vi.mock('$lib/media/MediaSession', () => ({
  MediaSession: {
    connect: vi.fn(async () => {
      const session = {
        listenOnly: false,
        close: vi.fn(),
        ownerOf: () => 'host',
        isProducerPaused: () => false,
        setListenOnly: vi.fn(async () => undefined),
        consumerStats: async () => [{ userId: 'host', kind: 'video', producerId: 'p1', framesDecoded: flowing ? 10 : 0, packetsReceived: 0 }],
        watch: async (onTrack: (track: unknown, consumer: unknown) => void) => onTrack({ kind: 'video' }, { observer: { once: () => undefined } }),
      };
      sessions.push(session);
      return { session, producers: [] };
    }),
  },
}));

const { ViewerMedia } = await import('../src/routes/live/[id]/viewer-media.svelte');

const hlsJoin: ViewerJoin = { mode: 'hls', playlist: '/ll/master.m3u8', audioPlaylist: '/ll/audio.m3u8', reason: 'capacity', retryAfterSec: 10 };
const webrtcJoin = { mode: 'webrtc', url: 'wss://node', token: 't', node: 'n1', iceServers: [] } as unknown as ViewerJoin;

function element() {
  return { srcObject: null as unknown, muted: true, play: vi.fn(async () => undefined) };
}

describe('ViewerMedia on HLS', () => {
  let video: ReturnType<typeof element>;
  let audio: ReturnType<typeof element>;
  let media: InstanceType<typeof ViewerMedia>;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('MediaStream', class { constructor(readonly tracks: unknown[]) {} });
    answers.length = playbacks.length = sessions.length = 0;
    request.mockClear();
    flowing = false;
    video = element();
    audio = element();
    media = new ViewerMedia({
      sessionId: 's1', hostId: 'host', elements: () => ({ video, audio }) as never,
      wanted: () => true, onEnded: () => undefined, onStage: () => false, events: {},
    });
  });
  afterEach(() => {
    media.dispose();
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('plays the video playlist, with sound, when the token route answers HLS', async () => {
    answers.push(hlsJoin);
    await media.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(media.delivery).toBe('hls');
    expect(playbacks.map((p) => [p.element, p.url])).toEqual([[video, '/ll/master.m3u8']]);
    expect(video.muted).toBe(false);
    expect(video.play).toHaveBeenCalled();
  });

  it('sound refused: plays muted, says so, and soundOn() unmutes the HLS video', async () => {
    video.play.mockImplementationOnce(async () => {
      throw new DOMException('no gesture', 'NotAllowedError');
    });
    answers.push(hlsJoin);
    await media.connect();
    await vi.advanceTimersByTimeAsync(0);
    expect(media.soundBlocked).toBe(true);
    expect(video.muted).toBe(true);
    expect(video.play).toHaveBeenCalledTimes(2); // muted, the second time
    media.soundOn();
    await vi.advanceTimersByTimeAsync(0);
    expect(video.muted).toBe(false);
    expect(media.soundBlocked).toBe(false);
  });

  it('asks again after retryAfterSec ±30 %, and keeps playing while the answer is still HLS', async () => {
    answers.push(hlsJoin);
    await media.connect();
    await vi.advanceTimersByTimeAsync(6999);
    expect(request).toHaveBeenCalledTimes(1);
    answers.push(hlsJoin);
    await vi.advanceTimersByTimeAsync(6001);
    expect(request).toHaveBeenCalledTimes(2);
    expect(media.delivery).toBe('hls');
    expect(playbacks).toHaveLength(1);
    expect(playbacks[0]?.destroy).not.toHaveBeenCalled();
  });

  it('moves back to WebRTC only once the new session plays the host (make-before-break)', async () => {
    answers.push(hlsJoin);
    await media.connect();
    answers.push(webrtcJoin);
    await vi.advanceTimersByTimeAsync(13_000);
    expect(sessions).toHaveLength(1);
    // The session is there but no frame of the host yet: HLS plays on.
    expect(media.delivery).toBe('hls');
    expect(playbacks[0]?.destroy).not.toHaveBeenCalled();
    flowing = true;
    await vi.advanceTimersByTimeAsync(200);
    expect(media.delivery).toBe('webrtc');
    expect(playbacks[0]?.destroy).toHaveBeenCalled();
    expect(video.muted).toBe(true); // WebRTC's sound goes through <audio>
    expect(video.srcObject).not.toBeNull();
    expect(sessions[0]?.close).not.toHaveBeenCalled();
  });

  it('stays on HLS when the WebRTC session never plays the host, and asks again later', async () => {
    answers.push(hlsJoin);
    await media.connect();
    answers.push(webrtcJoin);
    await vi.advanceTimersByTimeAsync(13_000 + 8_100);
    expect(media.delivery).toBe('hls');
    expect(sessions[0]?.close).toHaveBeenCalled();
    answers.push(hlsJoin);
    await vi.advanceTimersByTimeAsync(13_000);
    expect(request).toHaveBeenCalledTimes(3);
  });

  it('listen only swaps to the audio playlist in <audio>, and back', async () => {
    answers.push(hlsJoin);
    await media.connect();
    await media.setListenOnly(true);
    expect(playbacks[0]?.destroy).toHaveBeenCalled();
    expect([playbacks[1]?.element, playbacks[1]?.url]).toEqual([audio, '/ll/audio.m3u8']);
    await media.setListenOnly(false);
    expect([playbacks[2]?.element, playbacks[2]?.url]).toEqual([video, '/ll/master.m3u8']);
  });

  it('close() destroys hls.js and stops asking', async () => {
    answers.push(hlsJoin);
    await media.connect();
    await vi.advanceTimersByTimeAsync(0);
    media.close();
    expect(playbacks[0]?.destroy).toHaveBeenCalled();
    expect(media.delivery).toBe(null);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(request).toHaveBeenCalledTimes(1);
  });
});
