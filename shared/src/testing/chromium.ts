import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium (never a downloaded browser) with fake camera and microphone. The flags keep
 * it off the network this machine does not have (see shared/notes/ENVIRONMENT.md).
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-gpu',
      '--disable-quic',
      // Keep three simulcast layers even for small captures (the fake camera is 640x360).
      '--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/',
    ],
  });
}
