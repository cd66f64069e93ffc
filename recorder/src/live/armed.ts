import type { RenditionId } from '@podlive/shared/recording';
import { createLogger } from '@podlive/shared/logger';
import { freeUdpPortPairs } from '../capture/ports';
import { routerStream, type RouterCodec, type SdpStream } from '../capture/sdp';
import type { Rendition } from '../capture/Rendition';

const logger = createLogger('recorder').child({ module: 'armed' });

/** The most simulcast layers a camera is published with (web/src/lib/media/simulcast.ts), each a rendition. */
export const MAX_LAYERS = 3;

/**
 * A rendition started before the host's camera reached the origin: FFmpeg already listens for the
 * camera's layer and the host's mic on the router's codecs, so the first key frame the node
 * forwards is recorded. Starting FFmpeg (a process, its libraries, the bind: 0.1–2 s on a busy
 * machine) once the camera is there would lose that much of the live's beginning.
 */
export interface ArmedRendition {
  r: RenditionId;
  /** Video (the layer), then audio (the host's mic): what FFmpeg was started for. */
  streams: [SdpStream, SdpStream];
  rendition: Rendition;
  /** The layer's consumer once it is fed: key frame requests go to it. */
  videoConsumerId: string | undefined;
}

/**
 * Starts one rendition per possible layer on the router's H.264 and Opus, each on ports of its
 * own (`start` makes the Rendition for an armed rendition's streams; its key frame requests go to
 * `videoConsumerId` once set). Resolves with those that started: none when the router lacks
 * either codec.
 */
export async function armRenditions(
  codecs: readonly RouterCodec[],
  start: (armed: Omit<ArmedRendition, 'rendition'>) => Promise<Rendition>,
): Promise<ArmedRendition[]> {
  const ports = await freeUdpPortPairs(2 * MAX_LAYERS);
  const started = await Promise.allSettled(Array.from({ length: MAX_LAYERS }, async (_, layer) => {
    const video = routerStream(codecs, 'video', 'video/H264', ports[2 * layer]!);
    const audio = routerStream(codecs, 'audio', 'audio/opus', ports[2 * layer + 1]!);
    if (!video || !audio) throw new Error('the router has no H.264 or no Opus');
    const armed = { r: `r${layer}` as RenditionId, streams: [video, audio] as [SdpStream, SdpStream], videoConsumerId: undefined as string | undefined };
    return Object.assign(armed, { rendition: await start(armed) });
  }));
  const armed: ArmedRendition[] = [];
  for (const s of started) {
    if (s.status === 'fulfilled') armed.push(s.value);
    else logger.warn({ err: (s.reason as Error).message }, 'could not start a rendition ahead of the camera');
  }
  return armed;
}
