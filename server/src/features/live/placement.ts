import type { Config } from '../../config';
import { HLS_PRESENCE_MS } from '@podlive/shared/live';
import { roomPeers } from './sfu-control';

/** An SFU node as the control plane addresses it. */
export interface NodeRef {
  /** The node's id (SFU_NODE_ID), named in the media tokens minted for it. */
  id: string;
  /** The protoo WebSocket URL browsers open (`${publicWsUrl}/?token=...`). */
  publicWsUrl: string;
  /** The node's HTTP endpoint for /control commands (from the control plane, not browsers). */
  controlUrl: string;
}

export interface ViewerPlacementOptions {
  /** A node the viewer's page just lost (closed, killed, draining): not chosen, even if it still looks alive. */
  exclude?: string;
}

/**
 * Where lives run: the origin node of a new live, the node a viewer is sent to, and the node behind
 * an id stored on a session. SingleNodePlacement (one SFU_URL) or FleetPlacement (the Redis
 * registry of fleet.ts: least-loaded origin, viewers filled onto edges).
 */
export interface Placement {
  /**
   * The node the session's host (and guests) produce on: a new live's, or a new one when the live's
   * origin died (the session's tree starts again). SERVICE_UNAVAILABLE when no node can take it.
   */
  origin(sessionId: string): Promise<NodeRef>;
  forViewer(sessionId: string, originNodeId: string, options?: ViewerPlacementOptions): Promise<NodeRef>;
  /** The node with this id, or null when it is not (or no longer) known. */
  node(nodeId: string): Promise<NodeRef | null>;
  /** Every node carrying the session now (origin and edges): where its viewers are. */
  nodesOf(sessionId: string, originNodeId: string): Promise<NodeRef[]>;
  /** The live ended (its rooms are closed): forget what was kept for it. */
  ended(sessionId: string): Promise<void>;
  /** The operator's WebRTC cap for this live, or null when none is set for it. */
  webrtcCap(sessionId: string): Promise<number | null>;
  /** The live's WebRTC viewers now (connected, and placed but not yet connected where that is known). */
  webrtcViewers(sessionId: string, originNodeId: string): Promise<number>;
  /** A signed-in viewer was just given the live's HLS: they watch it there (HLS_PRESENCE_MS). */
  watchingHls(sessionId: string, userId: string): Promise<void>;
  /** Whether the user watches the live on HLS now (given it within HLS_PRESENCE_MS). */
  isWatchingHls(sessionId: string, userId: string): Promise<boolean>;
}

/** Who was given a live's HLS, until when: in this process (one replica). */
export class MemoryHlsPresence {
  readonly #until = new Map<string, Map<string, number>>();

  seen(sessionId: string, userId: string, now = Date.now()): void {
    let users = this.#until.get(sessionId);
    if (users === undefined) this.#until.set(sessionId, (users = new Map()));
    for (const [user, until] of users) if (until < now) users.delete(user);
    users.set(userId, now + HLS_PRESENCE_MS);
  }

  has(sessionId: string, userId: string, now = Date.now()): boolean {
    return (this.#until.get(sessionId)?.get(userId) ?? 0) >= now;
  }

  forget(sessionId: string): void {
    this.#until.delete(sessionId);
  }
}

/**
 * The one node of SFU_URL / SFU_NODE_ID / SFU_PUBLIC_WS_URL: origin and edge of every live. A
 * viewer excluding it is still sent there: there is nowhere else, and the page retries.
 */
export class SingleNodePlacement implements Placement {
  readonly #node: NodeRef;

  readonly #key: Config['secrets']['mediaToken'];
  readonly #hls = new MemoryHlsPresence();

  constructor(config: Pick<Config, 'sfuUrl' | 'sfuNodeId' | 'sfuPublicWsUrl' | 'secrets'>) {
    this.#node = Object.freeze({ id: config.sfuNodeId, publicWsUrl: config.sfuPublicWsUrl, controlUrl: config.sfuUrl });
    this.#key = config.secrets.mediaToken;
  }

  async origin(): Promise<NodeRef> {
    return this.#node;
  }

  async forViewer(): Promise<NodeRef> {
    return this.#node;
  }

  async node(nodeId: string): Promise<NodeRef | null> {
    return nodeId === this.#node.id ? this.#node : null;
  }

  async nodesOf(): Promise<NodeRef[]> {
    return [this.#node];
  }

  async ended(sessionId: string): Promise<void> {
    this.#hls.forget(sessionId);
  }

  async watchingHls(sessionId: string, userId: string): Promise<void> {
    this.#hls.seen(sessionId, userId);
  }

  async isWatchingHls(sessionId: string, userId: string): Promise<boolean> {
    return this.#hls.has(sessionId, userId);
  }

  /** Without a registry, only LIVE_WEBRTC_CAP applies. */
  async webrtcCap(): Promise<number | null> {
    return null;
  }

  /** The viewers in the live's room on the node (asked over /control). */
  async webrtcViewers(sessionId: string): Promise<number> {
    return (await roomPeers(this.#node, sessionId, this.#key)).peers.filter((p) => p.role === 'viewer').length;
  }
}
