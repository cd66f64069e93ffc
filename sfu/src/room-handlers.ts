import type { types } from 'mediasoup';
import type { MediaRequestData, MediaRequestMethod, MediaResponses } from '@podlive/shared/protocol';
import { MediaRequestError } from './errors';
import { estimatesBandwidth, isLayered, LayerFloor, riseWhenPlaying, START_LAYERS } from './viewer-layers';
import type { NodeWire } from './node-wire';
import type { Peer } from './Peer';
import type { Room } from './Room';

/** One handler per request, each resolving to the reply `shared` declares for it. */
type Handlers = { [M in MediaRequestMethod]: (room: Room, peer: Peer, data: MediaRequestData<M>) => Promise<MediaResponses<NodeWire>[M]> };

/**
 * Caps what one publisher may send into the router: a Full HD camera's three simulcast layers
 * (700 k + 1.5 M + 3 M: web/src/lib/media/simulcast.ts) plus Opus, with headroom. Below the
 * ladder's sum the browser never enables the top layer. (mediasoup's "incoming" is client → router.)
 */
const MAX_PUBLISH_BITRATE = 6_000_000;

/** The router's capabilities without RTX (retransmission needs a feedback loop plain RTP lacks). */
function plainCapabilities(caps: types.RtpCapabilities): types.RtpCapabilities {
  return { ...caps, codecs: (caps.codecs ?? []).filter((c) => !c.mimeType.toLowerCase().endsWith('/rtx')), headerExtensions: [] };
}

/** Asks the consumer's producer for a key frame (mediasoup coalesces them: keyFrameRequestDelay), counted. */
async function requestKeyFrame(room: Room, consumer: types.Consumer): Promise<void> {
  room.options.keyFrameRequests?.inc();
  await consumer.requestKeyFrame();
}

/** The protoo request dispatcher of a room: one handler per method, each checks the peer's grant. */
export const handlers: Handlers = {
  async getRouterRtpCapabilities(room) {
    return room.router.rtpCapabilities;
  },

  async join(room, peer, { rtpCapabilities }) {
    peer.rtpCapabilities = rtpCapabilities as unknown as types.RtpCapabilities;
    return { peerId: peer.id, role: peer.claims.role, producers: room.producerInfos(peer) };
  },

  async createWebRtcTransport(room, peer, { direction }) {
    if (direction === 'send' && !peer.canProduce) throw MediaRequestError.forbidden('viewers cannot send media');
    const transport = await peer.withinLimit('transports', async () => {
      // Producers live on the main router; receivers go where the node has room (another worker).
      const { router, webRtcServer } = direction === 'send' ? room.main : await room.receiveRouter();
      const created = await router.createWebRtcTransport({
        webRtcServer,
        enableUdp: true,
        enableTcp: true,
        preferUdp: true,
        initialAvailableOutgoingBitrate: 1_000_000,
        appData: { direction, router, replaced: false, connecting: false, floor: undefined as LayerFloor | undefined },
      });
      if (direction === 'send') await created.setMaxIncomingBitrate(MAX_PUBLISH_BITRATE);
      else created.appData.floor = new LayerFloor(created);
      peer.transports.set(created.id, created);
      created.observer.once('close', () => {
        peer.transports.delete(created.id);
        // Closed by the node (operator, failure), not because the peer left or replaced it: let the client recover.
        if (!peer.closed && !created.appData.replaced) peer.notify('transportClosed', { transportId: created.id });
      });
      return created;
    });
    // The client keeps one transport per direction and makes a new one when it gives an old one up
    // (it has no request to close it here): the node's older ones of this direction go. Older is
    // earlier in the map (insertion order), so of several made at once the newest stays.
    for (const older of [...peer.transports.values()]) {
      if (older === transport) break;
      if (older.appData.direction !== direction) continue;
      older.appData.replaced = true;
      older.close();
    }
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
  },

  async connectWebRtcTransport(_room, peer, { transportId, dtlsParameters }) {
    const transport = peer.transport(transportId);
    // The worker answers a second connect() with a plain error; it is the client's mistake.
    if (transport.appData.connecting) throw MediaRequestError.conflict(`transport ${transportId} is already connected`);
    transport.appData.connecting = true;
    try {
      await transport.connect({ dtlsParameters: dtlsParameters as unknown as types.DtlsParameters });
    } catch (err) {
      transport.appData.connecting = false;
      throw err;
    }
    return {};
  },

  async restartIce(_room, peer, { transportId }) {
    return peer.transport(transportId).restartIce();
  },

  async produce(room, peer, { transportId, kind, rtpParameters, appData }) {
    if (!peer.canProduce) throw MediaRequestError.forbidden('this grant cannot produce');
    const transport = peer.transport(transportId);
    if (transport.appData.direction !== 'send') throw MediaRequestError.badRequest('not a send transport');
    const source = appData?.source ?? (kind === 'audio' ? 'mic' : 'camera');
    const delay = room.options.keyFrameRequestDelay;
    const producer = await peer.withinLimit('producers', async () => {
      const created = await transport.produce({
        kind,
        rtpParameters: rtpParameters as unknown as types.RtpParameters,
        appData: { peerId: peer.id, userId: peer.claims.sub, source },
        // Muted by the host: a new producer (closing and re-creating one) starts paused, too.
        paused: peer.mutedByHost,
        // Many viewers joining at once must not make the sender's encoder burst key frames.
        ...(kind === 'video' && delay ? { keyFrameRequestDelay: delay } : {}),
      });
      // The host may have removed (or muted) the guest while the producer was being made.
      if (!peer.canProduce || peer.closed) {
        created.close();
        throw MediaRequestError.forbidden('this grant cannot produce');
      }
      peer.producers.set(created.id, created);
      created.observer.once('close', () => peer.producers.delete(created.id));
      return created;
    });
    if (peer.mutedByHost && !producer.paused) await producer.pause();
    // Removed while pausing: demote closed it with the peer's other producers.
    if (producer.closed) throw MediaRequestError.forbidden('this grant cannot produce');
    room.addProducer({ producer, peerId: peer.id, userId: peer.claims.sub, source }, peer);
    return { id: producer.id };
  },

  async closeProducer(_room, peer, { producerId }) {
    const producer = peer.producers.get(producerId);
    if (!producer) throw MediaRequestError.notFound('producer', producerId);
    producer.close();
    return {};
  },

  async pauseProducer(_room, peer, { producerId }) {
    const producer = peer.producers.get(producerId);
    if (!producer) throw MediaRequestError.notFound('producer', producerId);
    await producer.pause();
    return {};
  },

  async resumeProducer(_room, peer, { producerId }) {
    const producer = peer.producers.get(producerId);
    if (!producer) throw MediaRequestError.notFound('producer', producerId);
    if (peer.mutedByHost) throw MediaRequestError.forbidden('muted by the host');
    await producer.resume();
    return {};
  },

  async consume(room, peer, { producerId, transportId }) {
    if (!peer.rtpCapabilities) throw MediaRequestError.badRequest('join first');
    const producer = room.findProducer(producerId);
    if (!producer) throw MediaRequestError.notFound('producer', producerId);
    const transport = peer.transport(transportId);
    if (transport.appData.direction !== 'recv') throw MediaRequestError.badRequest('not a receive transport');
    // Every router of the room has the same codecs: the main one (where producers live) decides.
    if (!room.router.canConsume({ producerId, rtpCapabilities: peer.rtpCapabilities })) {
      throw MediaRequestError.badRequest('client cannot receive this producer');
    }
    const rtpCapabilities = peer.rtpCapabilities;
    const startLow = isLayered(producer) && estimatesBandwidth(rtpCapabilities);
    const consumer = await peer.withinLimit('consumers', async () => {
      await room.reach(transport.appData.router as types.Router, producerId);
      // Paused until the client says it is ready, then a key frame: no black video on join.
      // Layered video whose layers follow the estimate starts at the lowest layer (see START_LAYERS).
      const created = await transport.consume({ producerId, rtpCapabilities, paused: true, ...(startLow ? { preferredLayers: START_LAYERS } : {}) });
      peer.consumers.set(created.id, created);
      created.observer.once('close', () => peer.consumers.delete(created.id));
      return created;
    });
    consumer.on('producerclose', () => {
      consumer.close();
      peer.notify('consumerClosed', { consumerId: consumer.id });
    });
    if (startLow) riseWhenPlaying(consumer);
    // At least the lowest layer, whatever the bandwidth estimate says (no video at all otherwise).
    await (transport.appData.floor as LayerFloor | undefined)?.add(consumer, producer);
    consumer.on('producerpause', () => peer.notify('producerPaused', { producerId, paused: true }));
    consumer.on('producerresume', () => peer.notify('producerPaused', { producerId, paused: false }));
    return {
      id: consumer.id,
      producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      type: consumer.type,
      producerPaused: consumer.producerPaused,
    };
  },

  async resumeConsumer(room, peer, { consumerId }) {
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw MediaRequestError.notFound('consumer', consumerId);
    await consumer.resume();
    if (consumer.kind === 'video') await requestKeyFrame(room, consumer);
    return {};
  },

  async closeConsumer(_room, peer, { consumerId }) {
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw MediaRequestError.notFound('consumer', consumerId);
    consumer.close();
    return {};
  },

  async upgradeToGuest(room, peer, { token }) {
    if (peer.claims.role !== 'viewer') throw MediaRequestError.badRequest(`already ${peer.claims.role}`);
    if (!room.grants) throw MediaRequestError.forbidden('this room takes no guests');
    const claims = await room.grants.redeem(token, peer.claims);
    // The control plane was asked meanwhile: the peer may have gone, or upgraded with another grant.
    if (peer.closed || room.closed) throw MediaRequestError.notFound('peer', peer.id);
    if (peer.claims.role !== 'viewer') throw MediaRequestError.badRequest(`already ${peer.claims.role}`);
    peer.promote(claims);
    return { role: 'guest' };
  },

  async createPlainConsumer(room, peer, { producerId, ip, port, rtcpPort, spatialLayer }) {
    if (peer.claims.role !== 'recorder') throw MediaRequestError.forbidden('only the recorder consumes over plain RTP');
    const producer = room.findProducer(producerId);
    if (!producer) throw MediaRequestError.notFound('producer', producerId);
    const { router } = room.main;
    return peer.withinLimit('consumers', async () => {
      const transport = await router.createPlainTransport({ listenIp: room.options.plainListenIp ?? '127.0.0.1', rtcpMux: false, comedia: false });
      peer.plainTransports.add(transport);
      transport.observer.once('close', () => peer.plainTransports.delete(transport));
      try {
        await transport.connect({ ip, port, rtcpPort });
        // What the receiving end (FFmpeg) understands: the router's own codecs, no RTX.
        const consumer = await transport.consume({ producerId, rtpCapabilities: plainCapabilities(router.rtpCapabilities), paused: true });
        if (spatialLayer !== undefined && consumer.type === 'simulcast') await consumer.setPreferredLayers({ spatialLayer });
        peer.consumers.set(consumer.id, consumer);
        consumer.observer.once('close', () => {
          peer.consumers.delete(consumer.id);
          transport.close();
        });
        consumer.on('producerclose', () => {
          consumer.close();
          peer.notify('consumerClosed', { consumerId: consumer.id });
        });
        return { id: consumer.id, producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters, type: consumer.type, spatialLayers: producer.rtpParameters.encodings?.length ?? 1 };
      } catch (err) {
        transport.close();
        throw err;
      }
    });
  },

  async requestKeyFrame(room, peer, { consumerId }) {
    if (peer.claims.role !== 'recorder') throw MediaRequestError.forbidden('only the recorder asks for key frames');
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw MediaRequestError.notFound('consumer', consumerId);
    if (consumer.kind === 'video') await requestKeyFrame(room, consumer);
    return {};
  },

  async setConsumerPreferredLayers(_room, peer, { consumerId, spatialLayer, temporalLayer }) {
    const consumer = peer.consumers.get(consumerId);
    if (!consumer) throw MediaRequestError.notFound('consumer', consumerId);
    consumer.appData.clientLayers = true;
    await consumer.setPreferredLayers({ spatialLayer, ...(temporalLayer === undefined ? {} : { temporalLayer }) });
    return {};
  },
};
