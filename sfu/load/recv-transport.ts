import {
  IceCandidate, ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsParameters, RTCDtlsTransport, RTCIceGatherer, RTCIceTransport,
} from 'werift';
import { JoinError } from './join-source';
import type { TransportParams } from './wire';

export interface RecvTransport {
  ice: RTCIceTransport;
  dtls: RTCDtlsTransport;
  /** SRTP auth tag length of the negotiated profile, once DTLS is up. */
  tagLength: number;
}

export interface RecvTransportOptions {
  params: TransportParams;
  /** Tells the node our DTLS parameters (connectWebRtcTransport), before the handshake starts. */
  signal: (dtls: RTCDtlsParameters) => Promise<unknown>;
  /** Every datagram once SRTP is keyed (STUN and DTLS included; the caller filters). */
  onDatagram: (buf: Buffer) => void;
  /** Called after each step with its name (gather, transport, ice, dtls). */
  lap: (stage: string) => void;
}

/**
 * The client side of a mediasoup WebRtcTransport on werift's ORTC-style layers (no SDP,
 * no transceivers): ICE controlling against mediasoup's ICE-lite, DTLS client, SRTP keys
 * derived. werift's own receive path (decrypt and parse every packet) is replaced by
 * `onDatagram`; the SRTP session stays available to decrypt samples. A headless host's send
 * transport (remote-host.ts) is opened the same way and encrypts with the same session.
 */
export async function openRecvTransport(o: RecvTransportOptions, onCreated: (t: RecvTransport) => void): Promise<RecvTransport> {
  const udp = o.params.iceCandidates.filter((c) => c.protocol === 'udp');
  const loopback = udp.some((c) => c.ip.startsWith('127.'));
  // On loopback one socket on 127.0.0.1 is enough (werift skips loopback unless told, see ENVIRONMENT.md).
  const gatherer = new RTCIceGatherer(loopback ? { useIpv4: false, useIpv6: false, additionalHostAddresses: ['127.0.0.1'] } : { useIpv6: false });
  const ice = new RTCIceTransport(gatherer);
  ice.connection.iceControlling = true; // mediasoup is ICE-lite: we control and nominate
  const cert = await RTCDtlsTransport.SetupCertificate(); // one certificate per process: cheap joins
  const dtls = new RTCDtlsTransport({}, ice, cert, [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80]);
  const t: RecvTransport = { ice, dtls, tagLength: 10 };
  onCreated(t);
  await gatherer.gather();
  o.lap('gather');
  const { usernameFragment, password } = o.params.iceParameters;
  ice.setRemoteParams({ iceLite: true, usernameFragment, password });
  for (const c of udp) await ice.addRemoteCandidate(new IceCandidate(1, c.foundation, c.ip, c.port, c.priority, 'udp', 'host'));
  await ice.addRemoteCandidate(undefined);
  dtls.role = 'client';
  dtls.setRemoteParams(new RTCDtlsParameters(o.params.dtlsParameters.fingerprints, 'server'));
  dtls.startSrtp = () => {
    dtls.srtpStarted = true;
    dtls.updateSrtpSession();
    t.tagLength = dtls.dtls?.srtp.srtpProfile === ProtectionProfileAeadAes128Gcm ? 16 : 10;
    ice.connection.onData.subscribe(o.onDatagram);
  };
  await o.signal(new RTCDtlsParameters(cert.getFingerprints(), 'client'));
  o.lap('transport');
  try {
    await ice.start();
  } catch (err) {
    throw new JoinError('ice', (err as Error).message);
  }
  o.lap('ice');
  try {
    await dtls.start();
  } catch (err) {
    throw new JoinError('dtls', (err as Error).message);
  }
  o.lap('dtls');
  return t;
}
