import { execFile } from 'node:child_process';
import { access, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

/** The fake camera's capture size: an HD webcam (most laptops), or a Full HD one. */
export type FakeCamera = '720p' | '1080p';

const CAMERA_SIZES: Record<FakeCamera, string> = { '720p': '1280x720', '1080p': '1920x1080' };

/**
 * A camera that offers one size only, as a real one does at its maximum: Chromium's fake device
 * would otherwise give whatever is asked (1080p for the studio's ideal), and every test host
 * would encode Full HD. One second of FFmpeg's test pattern at 20 fps (the fake device's own
 * rate), raw (Y4M: nothing to decode per frame), made once per machine.
 */
async function fakeCameraFile(camera: FakeCamera): Promise<string> {
  const path = join(tmpdir(), `podlive-fake-camera-${camera}.y4m`);
  try {
    await access(path);
    return path;
  } catch {
    const partial = `${path}.${process.pid}.partial`;
    await promisify(execFile)('ffmpeg', [
      '-hide_banner', '-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${CAMERA_SIZES[camera]}:rate=20:duration=1`,
      '-pix_fmt', 'yuv420p', '-f', 'yuv4mpegpipe', partial,
    ]);
    await rename(partial, path);
    return path;
  }
}

/**
 * Debian's Chromium (never a downloaded browser) with a fake camera (an HD webcam unless told)
 * and microphone. The flags keep it off the network this machine does not have (see
 * shared/notes/ENVIRONMENT.md).
 */
export interface ChromiumOptions {
  camera?: FakeCamera;
  /** More flags (e.g. `--host-resolver-rules` for a site name that resolves to this machine). */
  args?: string[];
  /** A HOME of its own: Chromium trusts the CAs of `$HOME/.pki/nssdb` (a test's local CA). */
  home?: string;
  /** Another way to start it (e.g. inside a network namespace: FirewalledNetwork.chromium). */
  executable?: string;
}

export async function launchChromium({ camera = '720p', args = [], home, executable }: ChromiumOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: executable ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    ...(home === undefined ? {} : { env: { ...process.env, HOME: home } as Record<string, string> }),
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${await fakeCameraFile(camera)}`,
      '--use-fake-ui-for-media-stream',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      '--disable-quic',
      // Keep every simulcast layer even for small captures.
      '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/',
      ...args,
    ],
  });
}
