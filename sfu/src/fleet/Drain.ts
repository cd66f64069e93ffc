import type { SfuConfig } from '../config';
import { moduleLogger } from '../Logger';
import type { Peer } from '../Peer';
import type { Room } from '../Room';

const logger = moduleLogger('Drain');

/**
 * Draining a node: it takes no new viewers (the registry says so), and every heartbeat it asks
 * SFU_DRAIN_RATE more viewers to move (`moveNode`: their page connects elsewhere first, then
 * leaves). A viewer still here SFU_DRAIN_GRACE_MS after being asked is disconnected (its page
 * reconnects elsewhere). Hosts and guests stay until their live ends.
 */
export class Drain {
  #active = false;
  #stop = false;
  readonly #asked = new WeakMap<Peer, number>();

  constructor(
    readonly config: SfuConfig,
    readonly rooms: ReadonlyMap<string, Room>,
  ) {}

  get active(): boolean {
    return this.#active;
  }

  start(stop: boolean): void {
    this.#stop ||= stop;
    if (this.#active) return;
    this.#active = true;
    logger.info({ stop }, 'draining');
  }

  /** One heartbeat's worth of moves; true when the process should stop once nothing is left here. */
  step(now = Date.now()): boolean {
    if (!this.#active) return false;
    let budget = this.config.SFU_DRAIN_RATE;
    let staying = 0;
    for (const room of this.rooms.values()) {
      for (const peer of room.peers.values()) {
        if (peer.claims.role !== 'viewer') {
          staying++;
          continue;
        }
        const askedAt = this.#asked.get(peer);
        if (askedAt === undefined && budget > 0) {
          budget--;
          this.#asked.set(peer, now);
          peer.notify('moveNode', { reason: 'draining' });
        } else if (askedAt !== undefined && now - askedAt > this.config.SFU_DRAIN_GRACE_MS) {
          peer.close();
        }
      }
    }
    if (staying > 0) logger.info({ staying }, 'draining: hosts and guests stay until their lives end');
    return this.#stop;
  }
}
