import type { RenditionId } from '@podlive/shared/recording';
import { createLogger } from '@podlive/shared/logger';
import { freeUdpPortPairs } from '../capture/ports';
import { routerStream, sameRtpInput, type RouterCodec, type SdpStream } from '../capture/sdp';
import type { Rendition } from '../capture/Rendition';

const logger = createLogger('recorder').child({ module: 'armed' });

/** The most simulcast layers a camera is published with (web/src/lib/media/simulcast.ts), each a rendition. */
export const MAX_LAYERS = 3;

/**
 * What the fleet's routers offer for the two codecs recorded (sfu/src/media-codecs.ts, with the
 * payload types mediasoup 3.12 gives them): what a recorder that has joined no router yet arms on.
 * A router that differs is found at the join, and the renditions are armed again on its codecs;
 * test/armed.test.ts checks this against a real router.
 */
export const FLEET_ROUTER_CODECS: readonly RouterCodec[] = [
  { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, clockRate: 48000, channels: 2, parameters: {} },
  { kind: 'video', mimeType: 'video/H264', preferredPayloadType: 101, clockRate: 90000, parameters: { 'level-asymmetry-allowed': 1, 'packetization-mode': 1, 'profile-level-id': '42e01f' } },
];

/**
 * A rendition started before the host's camera reached the origin: FFmpeg listens (or is starting
 * to) for the camera's layer and the host's mic on the router's codecs, so the first key frame the
 * node forwards is recorded. Starting FFmpeg (a process, its libraries, the bind: 0.1–3 s on a busy
 * machine) once the camera is there would lose that much of the live's beginning. The ports are
 * known at once: the camera's consumers are made while FFmpeg may still be starting.
 */
export interface ArmedRendition {
  r: RenditionId;
  /** Video (the layer), then audio (the host's mic): what FFmpeg was started for. */
  streams: [SdpStream, SdpStream];
  /** Resolves once its FFmpeg listens; rejects when it could not start (logged here). */
  rendition: Promise<Rendition>;
  /** The layer's consumer once it is fed: key frame requests go to it. */
  videoConsumerId: string | undefined;
}

/**
 * Starts one rendition per possible layer on the router's H.264 and Opus, each on ports of its
 * own (`start` makes the Rendition for an armed rendition's streams; its key frame requests go to
 * `videoConsumerId` once set). Resolves as soon as the ports are chosen, FFmpeg still starting;
 * with none when the router lacks either codec.
 */
export async function armRenditions(
  codecs: readonly RouterCodec[],
  start: (armed: Omit<ArmedRendition, 'rendition'>) => Promise<Rendition>,
): Promise<ArmedRendition[]> {
  if (!routerStream(codecs, 'video', 'video/H264', 2) || !routerStream(codecs, 'audio', 'audio/opus', 2)) {
    logger.warn({ codecs: codecs.map((c) => c.mimeType) }, 'the router has no H.264 or no Opus: nothing armed');
    return [];
  }
  const ports = await freeUdpPortPairs(2 * MAX_LAYERS);
  return Array.from({ length: MAX_LAYERS }, (_, layer) => {
    const streams: [SdpStream, SdpStream] = [routerStream(codecs, 'video', 'video/H264', ports[2 * layer]!)!, routerStream(codecs, 'audio', 'audio/opus', ports[2 * layer + 1]!)!];
    const armed = { r: `r${layer}` as RenditionId, streams, videoConsumerId: undefined as string | undefined };
    const rendition = start(armed);
    rendition.catch((err: unknown) => logger.warn({ rendition: armed.r, err: (err as Error).message }, 'could not start a rendition ahead of the camera'));
    return Object.assign(armed, { rendition });
  });
}

/** Whether renditions armed on router codecs `a` read what a router with codecs `b` sends (see sameRtpInput). */
export function sameRouterCodecs(a: readonly RouterCodec[], b: readonly RouterCodec[]): boolean {
  const streams = (codecs: readonly RouterCodec[]) => [routerStream(codecs, 'video', 'video/H264', 2), routerStream(codecs, 'audio', 'audio/opus', 4)];
  const [x, y] = [streams(a), streams(b)];
  if (x.includes(undefined) || y.includes(undefined)) return false;
  return sameRtpInput(x as SdpStream[], y as SdpStream[]);
}
