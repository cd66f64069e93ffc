import type { types } from 'mediasoup';
import type { MediaWire } from '@podlive/shared/protocol';

/** The mediasoup structures in the node's replies, as mediasoup types them (see `MediaWire`). */
export interface NodeWire extends MediaWire {
  rtpCapabilities: types.RtpCapabilities;
  rtpParameters: types.RtpParameters;
  iceParameters: types.IceParameters;
  iceCandidate: types.IceCandidate;
  dtlsParameters: types.DtlsParameters;
}
