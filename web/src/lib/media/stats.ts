import type { types } from 'mediasoup-client';

export interface InboundStats {
  video: { framesDecoded: number; packetsReceived: number; frameWidth: number };
  audio: { packetsReceived: number };
  /** Protocol of the selected ICE candidate pair ('udp' | 'tcp'), when known. */
  protocol: string | null;
}

interface StatLike {
  type: string;
  kind?: string;
  framesDecoded?: number;
  packetsReceived?: number;
  frameWidth?: number;
  selected?: boolean;
  nominated?: boolean;
  state?: string;
  localCandidateId?: string;
  protocol?: string;
  id: string;
}

/** Sums the inbound RTP stats of the given consumers (what the viewer actually decodes). */
export async function readInboundStats(consumers: types.Consumer[]): Promise<InboundStats> {
  const out: InboundStats = { video: { framesDecoded: 0, packetsReceived: 0, frameWidth: 0 }, audio: { packetsReceived: 0 }, protocol: null };
  for (const consumer of consumers) {
    const report = await consumer.getStats();
    const all = new Map<string, StatLike>();
    report.forEach((s: StatLike) => all.set(s.id, s));
    for (const s of all.values()) {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        out.video.framesDecoded += s.framesDecoded ?? 0;
        out.video.packetsReceived += s.packetsReceived ?? 0;
        out.video.frameWidth = Math.max(out.video.frameWidth, s.frameWidth ?? 0);
      } else if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.audio.packetsReceived += s.packetsReceived ?? 0;
      } else if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated && s.localCandidateId) {
        out.protocol = all.get(s.localCandidateId)?.protocol ?? out.protocol;
      }
    }
  }
  return out;
}

/** One consumer's inbound RTP counters. */
export interface ConsumerStats {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  /** The user whose producer this is, when known. */
  userId: string | null;
  paused: boolean;
  packetsReceived: number;
  framesDecoded: number;
}

/** Inbound RTP counters of each consumer on its own. */
export async function readConsumerStats(consumers: types.Consumer[], ownerOf: (consumer: types.Consumer) => string | null): Promise<ConsumerStats[]> {
  return Promise.all(
    consumers.map(async (consumer) => {
      const out: ConsumerStats = { consumerId: consumer.id, producerId: consumer.producerId, kind: consumer.kind, userId: ownerOf(consumer), paused: consumer.paused, packetsReceived: 0, framesDecoded: 0 };
      (await consumer.getStats()).forEach((s: StatLike) => {
        if (s.type !== 'inbound-rtp') return;
        out.packetsReceived += s.packetsReceived ?? 0;
        out.framesDecoded += s.framesDecoded ?? 0;
      });
      return out;
    }),
  );
}

/** The ICE candidate pair a transport sends and receives on: how its media reaches the node. */
export interface SelectedPath {
  /** This browser's side: `host`, `srflx`, `prflx` or `relay` (through TURN). */
  localType: string;
  /** For a relay candidate, how the browser reaches the TURN server: `udp`, `tcp` or `tls`. */
  relayProtocol: string | null;
  /** The TURN URL of a relay candidate. */
  url: string | null;
  /** The node's side (a host candidate of its WebRtcServer). */
  remoteType: string;
  remoteAddress: string | null;
}

interface CandidateStat {
  candidateType?: string;
  relayProtocol?: string;
  url?: string;
  address?: string;
}

/** The selected candidate pair of a transport, per its getStats(); null before ICE has one. */
export async function readSelectedPath(transport: types.Transport): Promise<SelectedPath | null> {
  const all = new Map<string, StatLike & CandidateStat & { selectedCandidatePairId?: string; remoteCandidateId?: string }>();
  (await transport.getStats()).forEach((s: StatLike) => all.set(s.id, s));
  const selectedId = [...all.values()].find((s) => s.type === 'transport')?.selectedCandidatePairId;
  const pair = selectedId !== undefined ? all.get(selectedId) : [...all.values()].find((s) => s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated);
  const local = pair?.localCandidateId === undefined ? undefined : all.get(pair.localCandidateId);
  const remote = pair?.remoteCandidateId === undefined ? undefined : all.get(pair.remoteCandidateId);
  if (local?.candidateType === undefined || remote?.candidateType === undefined) return null;
  return { localType: local.candidateType, relayProtocol: local.relayProtocol ?? null, url: local.url ?? null, remoteType: remote.candidateType, remoteAddress: remote.address ?? null };
}
