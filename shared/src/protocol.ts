import { z } from 'zod';
import type { MediaRole } from './tokens';

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
  /** Recorder only: a key frame on this video consumer now (copied video can only be cut at one). */
  requestKeyFrame: z.object({ consumerId: id }),
} as const;

export type MediaRequestMethod = keyof typeof mediaRequestSchemas;
/** A request's data as a handler sees it (after validation). */
export type MediaRequestData<M extends MediaRequestMethod> = z.infer<(typeof mediaRequestSchemas)[M]>;
/** A request's data as a client sends it. */
export type MediaRequestInput<M extends MediaRequestMethod> = z.input<(typeof mediaRequestSchemas)[M]>;

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

/**
 * The mediasoup structures replies carry, as a type parameter: the node fills them from
 * mediasoup's types, a browser hands them to mediasoup-client's (the same JSON, typed by two
 * libraries of different versions), the recorder reads only the codecs. Each side names the
 * library types it uses; the rest of every reply is fixed here.
 */
export interface MediaWire {
  rtpCapabilities: unknown;
  rtpParameters: unknown;
  iceParameters: unknown;
  iceCandidate: unknown;
  dtlsParameters: unknown;
}

/** A reply with nothing to say (the request was done). */
export type MediaEmptyReply = Record<string, never>;

/** What a consumer is made of (mediasoup's `ConsumerType`). */
export type MediaConsumerType = 'simple' | 'simulcast' | 'svc' | 'pipe';

/**
 * The reply to each request, by method (the node's handlers and every client index this by
 * `MediaRequestMethod`: a request without a reply type does not compile).
 */
export interface MediaResponses<W extends MediaWire = MediaWire> {
  getRouterRtpCapabilities: W['rtpCapabilities'];
  /** This peer's id and role, and the producers already live in the room. */
  join: { peerId: string; role: MediaRole; producers: ProducerInfo[] };
  createWebRtcTransport: {
    id: string;
    iceParameters: W['iceParameters'];
    iceCandidates: W['iceCandidate'][];
    dtlsParameters: W['dtlsParameters'];
  };
  connectWebRtcTransport: MediaEmptyReply;
  /** The transport's new ICE parameters. */
  restartIce: W['iceParameters'];
  /** The producer's id on the node. */
  produce: { id: string };
  closeProducer: MediaEmptyReply;
  pauseProducer: MediaEmptyReply;
  resumeProducer: MediaEmptyReply;
  consume: {
    id: string;
    producerId: string;
    kind: 'audio' | 'video';
    rtpParameters: W['rtpParameters'];
    type: MediaConsumerType;
    /** The producer was paused (muted) when this consumer was made. */
    producerPaused: boolean;
  };
  resumeConsumer: MediaEmptyReply;
  closeConsumer: MediaEmptyReply;
  upgradeToGuest: { role: 'guest' };
  setConsumerPreferredLayers: MediaEmptyReply;
  createPlainConsumer: {
    id: string;
    producerId: string;
    kind: 'audio' | 'video';
    rtpParameters: W['rtpParameters'];
    type: MediaConsumerType;
    /** How many simulcast layers the producer has (1 when not simulcast). */
    spatialLayers: number;
  };
  requestKeyFrame: MediaEmptyReply;
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

export type MediaNotificationMethod = keyof MediaNotifications;
/** One notification as a client receives it: `switch (n.method)` narrows `n.data`. */
export type MediaNotification = { [M in MediaNotificationMethod]: { method: M; data: MediaNotifications[M] } }[MediaNotificationMethod];

/**
 * Error codes a node rejects requests with (protoo reject carries code + reason). The same codes
 * refuse a WebSocket upgrade (HTTP status): 401/403 for a token, 410 for a live that has ended,
 * 429 for too many connections from one address. Bad input never gets a 5xx.
 */
export const mediaErrorCodes = {
  badRequest: 400,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  /** The session's live has ended: no room is (re)made for it on any node. */
  gone: 410,
  /** A per-peer limit (MEDIA_PEER_LIMITS) or a rate limit was reached. */
  tooMany: 429,
  internal: 500,
  /** A service the node needs for the request (the control plane) did not answer: try again. */
  unavailable: 503,
} as const;

/**
 * What one signalling connection may hold open on a node at a time; one more is refused with
 * `tooMany` (429). Our client opens one send and one receive transport (a new one of a direction
 * replaces the node's older one: the client keeps one per direction), a host or guest produces
 * mic + camera, and a viewer consumes two per person on stage (host + STAGE_MAX_GUESTS 4 = 10).
 * Requests still under way count, so a burst of requests cannot overshoot.
 */
export const MEDIA_PEER_LIMITS = {
  /** WebRTC transports (send + receive, and a replacement under way for each). */
  transports: 4,
  /** mic + camera, and room for a screen share pair. */
  producers: 4,
  /** Consumers (the recorder's plain RTP consumers included). */
  consumers: 32,
} as const;
export type MediaPeerLimit = keyof typeof MEDIA_PEER_LIMITS;

/**
 * How many transports, producers and consumers one connection may create per window, whatever it
 * closed meanwhile (429 beyond): joining a full stage takes 11 (a receive transport and 10
 * consumers), so this allows several complete re-joins per window and no churn of the workers.
 */
export const MEDIA_PEER_CREATE_RATE = { creations: 50, windowSec: 10 } as const;

/**
 * Largest signalling message (and WebSocket frame) a node accepts, in bytes; a bigger one closes
 * the connection (1009). The largest real request, `join` with a browser's RTP capabilities, is a
 * few kilobytes.
 */
export const MEDIA_MAX_MESSAGE_BYTES = 64 * 1024;

/** The query parameter carrying the media token on the signalling WebSocket URL. */
export const MEDIA_TOKEN_PARAM = 'token';
