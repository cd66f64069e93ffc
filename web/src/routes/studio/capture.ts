/** The thumbnail size the API stores (16:9). */
const WIDTH = 1280;
const HEIGHT = 720;

/**
 * One frame of a playing video as a 1280×720 JPEG (letterboxed when the camera isn't 16:9): the
 * automatic thumbnail of a live whose host chose none. Null when the video has no frame yet.
 */
export function captureFrame(video: HTMLVideoElement): Promise<Blob | null> {
  if (video.videoWidth === 0 || video.videoHeight === 0) return Promise.resolve(null);
  const canvas = document.createElement('canvas');
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const context = canvas.getContext('2d');
  if (!context) return Promise.resolve(null);
  context.fillStyle = '#000';
  context.fillRect(0, 0, WIDTH, HEIGHT);
  const scale = Math.min(WIDTH / video.videoWidth, HEIGHT / video.videoHeight);
  const w = video.videoWidth * scale;
  const h = video.videoHeight * scale;
  context.drawImage(video, (WIDTH - w) / 2, (HEIGHT - h) / 2, w, h);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
}
