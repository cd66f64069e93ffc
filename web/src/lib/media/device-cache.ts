import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';

let loaded: { caps: string; device: Promise<Device> } | undefined;

/**
 * A Device loaded with these router capabilities: the page's last one when the node's are the
 * same (a reconnect after a node loss, a move to another node of the fleet), else a new one.
 * Loading asks the browser for its capabilities through two throwaway peer connections: a
 * reconnect skips that.
 */
export function loadedDevice(routerRtpCapabilities: types.RtpCapabilities): Promise<Device> {
  const caps = JSON.stringify(routerRtpCapabilities);
  if (loaded?.caps !== caps) {
    const device = new Device();
    const ready = device.load({ routerRtpCapabilities }).then(() => device);
    const entry = { caps, device: ready };
    loaded = entry;
    ready.catch(() => {
      if (loaded === entry) loaded = undefined;
    });
  }
  return loaded.device;
}
