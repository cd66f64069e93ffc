import { z } from 'zod';

/**
 * protoo signalling between a browser (or headless client) and an SFU node. Requests go
 * client → node; notifications go node → client. Every request's data is validated here before
 * a handler sees it; mediasoup validates the deep RTP structures itself.
 */

const id = z.string().min(1).max(64);
/** RTP/DTLS/ICE structures: shape checked loosely here, fully by mediasoup. */
const mediaObject = z.looseObject({});

export const mediaRequestSchemas = {
  getRouterRtpCapabilities: z.object({}).optional(),
  /** Announce the client's receive capabilities; the reply lists the producers already live. */
  join: z.object({ rtpCapabilities: z.looseObject({ codecs: z.array(mediaObject) }) }),
  createWebRtcTransport: z.object({ direction: z.enum(['send', 'recv']) }),
  connectWebRtcTransport: z.object({ transportId: id, dtlsParameters: mediaObject }),
  restartIce: z.object({ transportId: id }),
  produce: z.object({
    transportId: id,
    kind: z.enum(['audio', 'video']),
    rtpParameters: mediaObject,
    appData: z.object({ source: z.enum(['mic', 'camera']).optional() }).optional(),
  }),
  closeProducer: z.object({ producerId: id }),
  /** Mute / unmute: the node pauses the producer, so viewers' consumers pause rather than freeze. */
  pauseProducer: z.object({ producerId: id }),
  resumeProducer: z.object({ producerId: id }),
  /** Consumers start paused; the client resumes once its side is ready. */
  consume: z.object({ producerId: id, transportId: id }),
  resumeConsumer: z.object({ consumerId: id }),
  /** Listen mode drops the video consumer; switching back consumes it again. */
  closeConsumer: z.object({ consumerId: id }),
  /**
   * A viewer called onto the stage presents the one-time guest grant from the control plane on
   * its existing connection; the node checks it (same user, session and node, unused id) and
   * lets this peer produce.
   */
  upgradeToGuest: z.object({ token: z.string().min(20).max(4096) }),
  setConsumerPreferredLayers: z.object({
    consumerId: id,
    spatialLayer: z.number().int().min(0).max(2),
    temporalLayer: z.number().int().min(0).max(2).optional(),
  }),
  /**
   * Recorder only: consume a producer over a PlainTransport that sends plain RTP to `ip:port` (and
   * RTCP to `rtcpPort`), e.g. an FFmpeg reading an SDP. `spatialLayer` pins one simulcast layer
   * (a PlainTransport has no bandwidth estimation, so the pin holds). The consumer starts paused;
   * resumeConsumer starts it, closeConsumer ends it with its transport.
   */
  createPlainConsumer: z.object({
    producerId: id,
    ip: z.ipv4().or(z.ipv6()),
    port: z.number().int().min(1024).max(65535),
    rtcpPort: z.number().int().min(1024).max(65535),
    spatialLayer: z.number().int().min(0).max(2).optional(),
  }),
  /**
   * The reply to createPlainConsumer is { id, producerId, kind, rtpParameters, type, spatialLayers }:
   * `spatialLayers` is how many simulcast layers the producer has (1 when not simulcast).
   * Recorder only: a key frame on this video consumer now (copied video can only be cut at one).
   */
  requestKeyFrame: z.object({ consumerId: id }),
} as const;

export type MediaRequestMethod = keyof typeof mediaRequestSchemas;
export type MediaRequestData<M extends MediaRequestMethod> = z.infer<(typeof mediaRequestSchemas)[M]>;

export function isMediaRequestMethod(method: string): method is MediaRequestMethod {
  return Object.hasOwn(mediaRequestSchemas, method);
}

export interface ProducerInfo {
  producerId: string;
  peerId: string;
  kind: 'audio' | 'video';
  /** The producing user (the media token's subject): the recorder tells the host from guests by it. */
  userId: string;
  /** `mic` or `camera`. */
  source: string;
}

/** Node → client notifications. */
export interface MediaNotifications {
  newProducer: ProducerInfo;
  producerClosed: { producerId: string };
  consumerClosed: { consumerId: string };
  /** A producer this client consumes was paused or resumed by its owner (mute / unmute). */
  producerPaused: { producerId: string; paused: boolean };
  /** The node closed one of the client's transports (not at the client's request): make a new one. */
  transportClosed: { transportId: string };
  roomClosed: { reason: 'host_left' | 'ended' | 'node_shutdown' | 'worker_died' };
  /**
   * This node is draining: connect to another node (a new token with `exclude` = this node), and
   * close this connection once the new one plays. Viewers only; make-before-break, no gap.
   */
  moveNode: { reason: 'draining' };
  /** The session's origin is gone: the host's media stopped; it comes back if the host resumes. */
  originLost: Record<string, never>;
  /** This peer's role changed (removed from the stage, or left): its producers are closed. */
  roleChanged: { role: 'viewer' | 'guest'; reason?: 'removed' | 'left' };
  /** The host muted or unmuted this guest; while muted the guest cannot resume by itself. */
  mutedByHost: { muted: boolean };
  /** Who is speaking now (loudest on stage), or null for silence. userId is the token's subject. */
  activeSpeaker: { userId: string | null };
}

/** Error codes a node rejects requests with (protoo reject carries code + reason). */
export const mediaErrorCodes = {
  badRequest: 400,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  internal: 500,
} as const;

/** The query parameter carrying the media token on the signalling WebSocket URL. */
export const MEDIA_TOKEN_PARAM = 'token';
