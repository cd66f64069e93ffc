import type { types } from 'mediasoup';
import { moduleLogger } from './Logger';

const logger = moduleLogger('viewer-layers');

/**
 * Headroom over the lowest layer's cap: what mediasoup measures of a layer runs a little over
 * the sender's cap (736 kbit/s seen for a 700 kbit/s layer while viewers joining asked for key
 * frames), and the floor must cover what it measures.
 */
const HEADROOM = 1.25;

/**
 * The bitrate of a layered (simulcast or SVC) producer's lowest layer, as its sender capped it
 * (the smallest `maxBitrate` of its encodings); 0 for a single-stream producer or one without caps.
 * Encodings keep their `maxBitrate` through pipes, so an edge's pipe producer says the same.
 */
export function lowestLayerBitrate(producer: types.Producer): number {
  if (producer.kind !== 'video' || producer.type === 'simple') return 0;
  const caps = (producer.rtpParameters.encodings ?? []).map((e) => e.maxBitrate ?? 0);
  return caps.length > 0 && caps.every((b) => b > 0) ? Math.min(...caps) : 0;
}

/**
 * Keeps a receive transport's minimum outgoing bitrate at the sum of the lowest layers of the
 * layered video it carries (with some headroom), so that a viewer always gets at least the
 * lowest layer of each; the estimate still decides the layers above it. A viewer whose link
 * can't carry even that much has listen mode (no video consumers, no floor).
 *
 * mediasoup gives a layered consumer the layers its transport's bandwidth estimate affords, and
 * none at all when the estimate is below the lowest layer: the viewer then gets no video until
 * the estimate rises again, which mediasoup looks at about once a second. A viewer's first
 * estimates are often that low for a moment (measured on a busy 2-core machine: 244 and
 * 390 kbit/s against a 480p layer of 700 kbit/s, 1-4 s without a frame on join); with this floor
 * the estimate never goes under what the lowest layers need, and the rest of the layers still
 * follow it.
 */
export class LayerFloor {
  readonly #layers = new Map<string, number>();
  #applied = 0;

  constructor(readonly transport: types.WebRtcTransport) {}

  /** A consumer of `producer` on this transport: its lowest layer counts until it closes. */
  add(consumer: types.Consumer, producer: types.Producer): Promise<void> {
    const bitrate = lowestLayerBitrate(producer);
    if (bitrate === 0 || consumer.closed) return Promise.resolve();
    this.#layers.set(consumer.id, Math.round(bitrate * HEADROOM));
    consumer.observer.once('close', () => {
      this.#layers.delete(consumer.id);
      void this.#apply();
    });
    return this.#apply();
  }

  /** The floor in bit/s (0: mediasoup's own minimum). */
  get bitrate(): number {
    let sum = 0;
    for (const b of this.#layers.values()) sum += b;
    return sum;
  }

  async #apply(): Promise<void> {
    const floor = this.bitrate;
    if (floor === this.#applied || this.transport.closed) return;
    this.#applied = floor;
    try {
      await this.transport.setMinOutgoingBitrate(floor);
    } catch (err) {
      // The transport closed meanwhile; anything else is worth knowing.
      if (!this.transport.closed) logger.warn({ transportId: this.transport.id, floor, err: (err as Error).message }, 'could not set the minimum outgoing bitrate');
    }
  }
}

/** Above any stream's top layer: mediasoup clamps a preferred layer to the stream's top. */
const TOP_LAYER = 32;

/** Whether consumers of `producer` have layers to choose from. */
export const isLayered = (producer: types.Producer): boolean => producer.kind === 'video' && producer.type !== 'simple';

/**
 * Whether a client with these capabilities answers bandwidth estimation (transport-cc or REMB
 * feedback): then mediasoup picks its layers by the estimate. Without (headless load viewers),
 * it sends the top layer the producer has and the estimate plays no part.
 */
export const estimatesBandwidth = (caps: types.RtpCapabilities): boolean =>
  (caps.codecs ?? []).some((c) => c.kind === 'video' && (c.rtcpFeedback ?? []).some((fb) => fb.type === 'transport-cc' || fb.type === 'goog-remb'));

/**
 * Where a layered consumer whose layers follow the estimate starts: the lowest layer, rising once
 * it plays. Until the viewer has a first frame, the consumer waits for a key frame of the one layer
 * it targets, and with every layer open that target moves as the first estimates come (0 → 1
 * within 100 ms of connecting, seen in traces): the layer-0 key frame the join asked for is then
 * dropped, and the next one comes late (Chromium's encoder ignores a key frame request < 300 ms
 * after the last; mediasoup asks again after 1 s). Pinned to layer 0, the first key frame always
 * counts; from the first frame the estimate picks the layers, and a switch up keeps layer 0
 * playing until the new layer's key frame.
 */
export const START_LAYERS = { spatialLayer: 0 } as const;

/** Lets `consumer` (started at START_LAYERS) rise to the top layer once it sends a layer, unless the client chose its layers by then. */
export function riseWhenPlaying(consumer: types.Consumer): void {
  const onLayers = (layers?: types.ConsumerLayers) => {
    if (!layers) return;
    consumer.off('layerschange', onLayers);
    if (consumer.closed || consumer.appData.clientLayers) return;
    consumer.setPreferredLayers({ spatialLayer: TOP_LAYER }).catch(() => undefined); // closed meanwhile
  };
  consumer.on('layerschange', onLayers);
}
