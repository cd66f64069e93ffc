import type { types } from 'mediasoup';
import type { MediaRequestInput, MediaResponses } from '@podlive/shared/protocol';
import type { NodeWire } from '../src/node-wire';

/** The parts of the node's protoo replies a headless viewer reads (the node's own reply types). */
export type { ProducerInfo } from '@podlive/shared/protocol';
export type TransportParams = MediaResponses<NodeWire>['createWebRtcTransport'];
export type ConsumeReply = MediaResponses<NodeWire>['consume'];

/**
 * What a headless viewer says it can receive: the router's capabilities without bandwidth
 * estimation (transport-cc, abs-send-time, REMB). A viewer that never answers BWE must not
 * claim it, and the node then sends the media it has without probing.
 */
export function receiveCapabilities(router: types.RtpCapabilities): MediaRequestInput<'join'>['rtpCapabilities'] {
  const bwe = /transport-wide-cc|abs-send-time/;
  return {
    ...router,
    codecs: (router.codecs ?? []).map((c) => ({
      ...c,
      rtcpFeedback: c.rtcpFeedback?.filter((fb) => fb.type !== 'transport-cc' && fb.type !== 'goog-remb'),
    })),
    headerExtensions: router.headerExtensions?.filter((h) => !bwe.test(h.uri)),
  };
}
