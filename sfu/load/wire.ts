/** The parts of the node's protoo replies a headless viewer reads (shapes from mediasoup's types). */
export type { ProducerInfo } from '@podlive/shared/protocol';

export interface TransportParams {
  id: string;
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: { foundation: string; priority: number; ip: string; protocol: 'udp' | 'tcp'; port: number }[];
  dtlsParameters: { fingerprints: { algorithm: string; value: string }[] };
}

export interface ConsumeReply {
  id: string;
  kind: 'audio' | 'video';
  rtpParameters: {
    codecs: { mimeType: string; payloadType: number }[];
    encodings: { ssrc?: number; rtx?: { ssrc?: number } }[];
  };
}

interface RtpCapabilities {
  codecs?: { rtcpFeedback?: { type: string; parameter?: string }[] }[];
  headerExtensions?: { uri: string }[];
}

/**
 * What a headless viewer says it can receive: the router's capabilities without bandwidth
 * estimation (transport-cc, abs-send-time, REMB). A viewer that never answers BWE must not
 * claim it, and the node then sends the media it has without probing.
 */
export function receiveCapabilities<C extends RtpCapabilities>(router: C): C {
  const bwe = /transport-wide-cc|abs-send-time/;
  return {
    ...router,
    codecs: router.codecs?.map((c) => ({
      ...c,
      rtcpFeedback: c.rtcpFeedback?.filter((fb) => fb.type !== 'transport-cc' && fb.type !== 'goog-remb'),
    })),
    headerExtensions: router.headerExtensions?.filter((h) => !bwe.test(h.uri)),
  };
}
