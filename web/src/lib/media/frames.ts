/**
 * Counts the video frames a <video> element actually presents, and the longest time between two
 * of them: what a viewer sees of a node dying or draining (tests read it, see test-hooks.ts).
 */
export class FrameClock {
  /** Frames presented since the last reset. */
  count = 0;
  /** When the last one was presented (performance.now() ms), or null before the first. */
  lastAt: number | null = null;
  /** The longest gap between two presented frames since the last reset (ms). */
  maxGapMs = 0;

  record(at: number): void {
    if (this.lastAt !== null) this.maxGapMs = Math.max(this.maxGapMs, at - this.lastAt);
    this.lastAt = at;
    this.count++;
  }

  /**
   * Starts a new measurement. The time since the last frame still counts: a gap that has begun
   * before the reset ends in the measurement, so measuring from just before a kill works.
   */
  reset(): void {
    this.count = 0;
    this.maxGapMs = 0;
  }
}

type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (callback: (now: number) => void) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
};

/** Records every frame `video` presents into `clock` until the returned function is called. */
export function watchFrames(video: HTMLVideoElement, clock: FrameClock): () => void {
  const v = video as FrameCallbackVideo;
  if (!v.requestVideoFrameCallback) return () => undefined;
  let handle = 0;
  const onFrame = (now: number) => {
    clock.record(now);
    handle = v.requestVideoFrameCallback!(onFrame);
  };
  handle = v.requestVideoFrameCallback(onFrame);
  return () => v.cancelVideoFrameCallback?.(handle);
}
