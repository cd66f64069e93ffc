import type { types } from 'mediasoup';
import { SafeEmitter } from '@podlive/shared/emitter';
import { announceMetrics } from '@podlive/shared/metrics';
import {
  FLEET_HEARTBEAT_MS, fleetKeys, pipeOpenedSchema,
  type NodeMessage, type NodeMessageOf, type NodeStatus, type PipeOpened,
} from '@podlive/shared/fleet';
import type { SfuConfig } from '../config';
import { moduleLogger } from '../Logger';
import { ENDED_HOLD_MS } from '../EndedSessions';
import type { Room, RoomCloseReason } from '../Room';
import { Drain } from './Drain';
import { NodeBus } from './NodeBus';
import { PipeLink, type PipeLinkOptions } from './PipeLink';
import { Registry, type AliveNodes } from './Registry';
import { StatusReporter, type NodeView } from './StatusReporter';

const logger = moduleLogger('Fleet');

/** A room as the fleet sees it: fed by one upstream node (edges), feeding downstream nodes. */
interface Carried {
  room: Room;
  upstream: PipeLink | undefined;
  readonly downstream: Map<string, PipeLink>;
  /** An attach is in progress (one at a time). */
  attaching: boolean;
  /** This node is the origin of the session (the host produces here). */
  origin: boolean;
  /** Viewers were told the origin is gone (once per outage). */
  originLostTold: boolean;
}

interface FleetEvents {
  /** Draining with `stop`, and nobody is left: the process may exit. */
  drained: [];
}

/**
 * This node's membership in the fleet: its heartbeat in the Redis registry, the pipes that
 * feed its rooms from the session's origin (directly or through relays) and that it feeds to
 * other nodes, re-attaching when a neighbour dies, and draining on the operator's word.
 */
export class Fleet extends SafeEmitter<FleetEvents> {
  readonly #carried = new Map<string, Carried>();
  readonly #reporter: StatusReporter;
  readonly #drain: Drain;
  #alive: AliveNodes = new Map();
  #timer: NodeJS.Timeout | undefined;
  /** Stops announcing the node's metrics endpoint to Prometheus' discovery and removes it. */
  #unannounce: () => Promise<void> = async () => undefined;
  #closed = false;

  private constructor(
    readonly config: SfuConfig,
    readonly view: NodeView,
    readonly bus: NodeBus,
    readonly registry: Registry,
  ) {
    super(logger);
    this.#reporter = new StatusReporter(config, view);
    this.#drain = new Drain(config, view.rooms);
  }

  static async start(config: SfuConfig, view: NodeView): Promise<Fleet> {
    if (!config.REDIS_URL) throw new Error('the fleet needs REDIS_URL');
    const keys = fleetKeys(config.REDIS_PREFIX);
    // Messages can only arrive once subscribed, and the fleet needs the bus: a late-bound handler.
    const ref: { fleet?: Fleet } = {};
    const bus = await NodeBus.open(config.REDIS_URL, keys, config.SFU_NODE_ID, (message) => ref.fleet?.receive(message));
    const fleet = (ref.fleet = new Fleet(config, view, bus, new Registry(bus.redis, keys, config.SFU_NODE_ID)));
    await fleet.#tick();
    fleet.#timer = setInterval(() => void fleet.#tick(), FLEET_HEARTBEAT_MS);
    fleet.#unannounce = announceMetrics(bus.redis, config.REDIS_PREFIX, { job: 'sfu', instance: config.SFU_NODE_ID, address: view.metricsAddress }, (err) =>
      logger.warn({ err: (err as Error).message }, 'announcing the metrics endpoint failed'));
    logger.info({ nodeId: config.SFU_NODE_ID, region: config.SFU_REGION, fanout: config.SFU_RELAY_FANOUT }, 'joined the fleet');
    return fleet;
  }

  get draining(): boolean {
    return this.#drain.active;
  }

  /** The fleet view of a session here (tests and /health). */
  carried(sid: string): { origin: boolean; upstream: string | undefined; downstream: string[]; srtp: boolean } | undefined {
    const c = this.#carried.get(sid);
    return c && { origin: c.origin, upstream: c.upstream?.neighbour, downstream: [...c.downstream.keys()], srtp: Boolean(c.upstream?.transport.srtpParameters) };
  }

  /** The pipe transports to neighbour nodes, of every session (the metrics sum their bitrates). */
  pipeTransports(): types.PipeTransport[] {
    return [...this.#carried.values()].flatMap((carried) => this.#links(carried).map((link) => link.transport));
  }

  /** A room was created on this node: it forwards its producers to its pipes, and an edge attaches. */
  roomCreated(room: Room): void {
    const carried: Carried = { room, upstream: undefined, downstream: new Map(), attaching: false, origin: false, originLostTold: false };
    this.#carried.set(room.id, carried);
    room.on('producer', (entry) => {
      for (const link of this.#links(carried)) void link.enqueue(async () => this.#announce(link, await link.export(entry)));
    });
    room.once('close', (reason) => this.#roomClosed(carried, reason));
    void this.#attach(carried);
  }

  /** The control plane ended the live here: the registry tells every node to refuse its room. */
  async sessionEnded(sid: string): Promise<void> {
    await this.registry.markEnded(sid, ENDED_HOLD_MS);
  }

  /**
   * Whether the registry says the live of `sid` ended. Unreachable Redis counts as not ended (the
   * token's own expiry still bounds it): an outage must not stop every live from being joined.
   */
  async hasEnded(sid: string): Promise<boolean> {
    try {
      return await this.registry.isEnded(sid);
    } catch (err) {
      logger.warn({ sid, err: (err as Error).message }, 'could not ask the registry whether the live ended');
      return false;
    }
  }

  /** Stops taking part: neighbours are told at once (they re-attach), the registry forgets us. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#unannounce();
    await this.registry.deregister().catch(() => undefined);
    this.registry.close();
    this.bus.close();
  }

  // ---- attaching (edges) ----------------------------------------------------------------------

  async #attach(carried: Carried): Promise<void> {
    const { room } = carried;
    if (carried.attaching || carried.upstream || carried.origin || room.closed || this.#closed) return;
    carried.attaching = true;
    try {
      // A fresh view of who is alive: nodes that joined since the last beat count as parents too.
      this.#alive = await this.registry.alive();
      const where = await this.registry.attach(room.id, this.config.SFU_RELAY_FANOUT, this.#alive);
      if (room.closed) return;
      if (where === null) {
        // No live origin: the host's media is gone until the host resumes on a new origin.
        if (!carried.originLostTold) room.broadcast('originLost', {});
        carried.originLostTold = true;
        return;
      }
      if ('origin' in where) {
        carried.origin = true;
        logger.info({ roomId: room.id }, 'origin of the session');
        return;
      }
      await this.#openUpstream(carried, where.parent);
    } catch (err) {
      logger.warn({ roomId: room.id, err: (err as Error).message }, 'attaching failed; retrying');
    } finally {
      carried.attaching = false;
    }
  }

  async #openUpstream(carried: Carried, parent: string): Promise<void> {
    const { room } = carried;
    const link = await PipeLink.create(room, parent, 'upstream', this.#pipeOptions(), (m) => void this.bus.send(parent, { ...m, sid: room.id }));
    carried.upstream = link;
    // Queued before the request goes out: producers the parent announces later wait for this.
    const reply = this.bus.request(parent, { type: 'pipe.open', sid: room.id, end: link.end });
    const opened = link.enqueue(async () => {
      const { end, producers } = pipeOpenedSchema.parse(await reply) satisfies PipeOpened;
      await link.connect(end);
      for (const piped of producers) await link.import(piped);
      // What this node has that the parent doesn't (a guest here, nodes below): send it up.
      for (const entry of room.producers.values()) this.#announce(link, await link.export(entry));
      carried.originLostTold = false;
      logger.info({ roomId: room.id, parent, producers: producers.length }, 'attached');
    });
    try {
      await reply;
      await opened;
    } catch (err) {
      this.#dropLink(carried, link);
      throw err;
    }
  }

  // ---- messages from other nodes --------------------------------------------------------------

  /** A message from another node (or the operator), already checked against the schema. */
  receive(message: NodeMessage): void {
    if (message.type === 'drain') {
      this.#drain.start(message.stop);
      return;
    }
    if (message.type === 'reply') return;
    if (message.type === 'pipe.open') {
      this.#onOpen(message).catch((err: unknown) => {
        logger.warn({ sid: message.sid, from: message.from, err: (err as Error).message }, 'pipe.open failed');
        void this.bus.reply(message.from, message.reqId, { ok: false, error: (err as Error).message });
      });
      return;
    }
    const carried = this.#carried.get(message.sid);
    const link = carried && this.#linkTo(carried, message.from);
    if (!carried || !link) return; // a pipe that is gone already
    switch (message.type) {
      case 'pipe.producer':
        void link.enqueue(() => link.import(message.producer));
        break;
      case 'pipe.producerClosed':
        void link.enqueue(async () => link.importClosed(message.producerId));
        break;
      case 'pipe.producerPaused':
        void link.enqueue(() => link.importPaused(message.producerId, message.paused));
        break;
      case 'pipe.close':
        this.#onClose(carried, link, message.reason);
        break;
    }
  }

  /** A node below asks to be fed: open our end of the pipe, connect, and send every producer. */
  async #onOpen(message: NodeMessageOf<'pipe.open'>): Promise<void> {
    if (this.#closed) throw new Error('node shutting down');
    const room = await this.view.room(message.sid);
    const carried = this.#carried.get(room.id);
    if (!carried) throw new Error('room not carried');
    this.#linkTo(carried, message.from)?.close();
    const link = await PipeLink.create(room, message.from, 'downstream', this.#pipeOptions(), (m) => void this.bus.send(message.from, { ...m, sid: room.id }));
    carried.downstream.set(message.from, link);
    room.feeds.add(message.from);
    link.transport.observer.once('close', () => this.#forget(carried, link));
    await link.enqueue(async () => {
      await link.connect(message.end);
      const producers = [];
      for (const entry of room.producers.values()) {
        const piped = await link.export(entry);
        if (piped) producers.push(piped);
      }
      await this.bus.reply(message.from, message.reqId, { ok: true, data: { end: link.end, producers } satisfies PipeOpened });
      logger.info({ roomId: room.id, child: message.from, producers: producers.length }, 'feeding a node');
    });
    if (link.closed) throw new Error('pipe closed while opening');
  }

  #onClose(carried: Carried, link: PipeLink, reason: 'ended' | 'left' | 'lost'): void {
    if (link === carried.upstream && reason === 'ended') {
      carried.room.close('ended');
      return;
    }
    this.#dropLink(carried, link);
    if (link.direction === 'upstream') void this.#attach(carried);
    else carried.room.closeIfUnused();
  }

  // ---- every heartbeat ------------------------------------------------------------------------

  async #tick(): Promise<void> {
    if (this.#closed) return;
    try {
      const status: NodeStatus = await this.#reporter.status(this.#drain.active, this.#sessions());
      await this.registry.heartbeat(status);
      this.#alive = await this.registry.alive();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'heartbeat failed');
      return;
    }
    for (const carried of this.#carried.values()) {
      // A neighbour that stopped beating is dead: drop its pipe; an edge then attaches again.
      for (const link of this.#links(carried)) {
        if (this.#alive.has(link.neighbour)) continue;
        logger.warn({ roomId: carried.room.id, neighbour: link.neighbour }, 'neighbour node is gone');
        this.#onClose(carried, link, 'lost');
      }
      if (!carried.origin && !carried.upstream) void this.#attach(carried);
      // A draining node hands the nodes it feeds to others once its own viewers are gone.
      if (this.#drain.active && carried.room.peers.size === 0) {
        for (const link of [...carried.downstream.values()]) this.#closeLink(carried, link, 'lost');
        carried.room.closeIfUnused();
      }
    }
    if (this.#drain.step() && this.#carried.size === 0) this.safeEmit('drained');
  }

  #sessions(): NodeStatus['sessions'] {
    const sessions: NodeStatus['sessions'] = {};
    for (const [sid, carried] of this.#carried) {
      const roles = { host: 0, guest: 0, viewer: 0, recorder: 0 };
      for (const peer of carried.room.peers.values()) roles[peer.claims.role]++;
      sessions[sid] = {
        viewers: roles.viewer, guests: roles.guest, hosts: roles.host,
        ...(carried.upstream ? { parent: carried.upstream.neighbour } : {}),
        children: [...carried.downstream.keys()],
      };
    }
    return sessions;
  }

  // ---- links ----------------------------------------------------------------------------------

  #roomClosed(carried: Carried, reason: RoomCloseReason): void {
    this.#carried.delete(carried.room.id);
    // The live ended: every node below closes too. Otherwise (worker died, shutdown) they re-attach.
    for (const link of [...carried.downstream.values()]) this.#closeLink(carried, link, reason === 'ended' ? 'ended' : 'lost');
    if (carried.upstream) this.#closeLink(carried, carried.upstream, 'left');
    if (!carried.origin) void this.registry.detach(carried.room.id).catch(() => undefined);
  }

  #closeLink(carried: Carried, link: PipeLink, reason: 'ended' | 'left' | 'lost'): void {
    void this.bus.send(link.neighbour, { type: 'pipe.close', sid: carried.room.id, reason }).catch(() => undefined);
    this.#dropLink(carried, link);
  }

  #dropLink(carried: Carried, link: PipeLink): void {
    link.close();
    this.#forget(carried, link);
  }

  #forget(carried: Carried, link: PipeLink): void {
    if (carried.upstream === link) carried.upstream = undefined;
    if (carried.downstream.get(link.neighbour) === link) {
      carried.downstream.delete(link.neighbour);
      carried.room.feeds.delete(link.neighbour);
    }
  }

  #linkTo(carried: Carried, neighbour: string): PipeLink | undefined {
    return carried.upstream?.neighbour === neighbour ? carried.upstream : carried.downstream.get(neighbour);
  }

  #links(carried: Carried): PipeLink[] {
    return [...(carried.upstream ? [carried.upstream] : []), ...carried.downstream.values()];
  }

  #announce(link: PipeLink, piped: Awaited<ReturnType<PipeLink['export']>>): void {
    if (piped) link.send({ type: 'pipe.producer', producer: piped });
  }

  #pipeOptions(): PipeLinkOptions {
    const c = this.config;
    return {
      listenIp: c.SFU_PIPE_IP ?? c.RTC_LISTEN_IP,
      ...(c.SFU_PIPE_ANNOUNCED_IP ? { announcedIp: c.SFU_PIPE_ANNOUNCED_IP } : {}),
      srtp: c.SFU_PIPE_SRTP,
      keyFrameRequestDelay: c.SFU_KEYFRAME_DELAY_MS,
    };
  }
}
