import type { Config } from '../../config';

/** An SFU node as the control plane addresses it. */
export interface NodeRef {
  /** The node's id (SFU_NODE_ID), named in the media tokens minted for it. */
  id: string;
  /** The protoo WebSocket URL browsers open (`${publicWsUrl}/?token=...`). */
  publicWsUrl: string;
  /** The node's HTTP endpoint for /control commands (from the control plane, not browsers). */
  controlUrl: string;
}

/**
 * Where lives run: the origin node of a new live, the node a viewer is sent to, and the node behind
 * an id stored on a session. One node today (SingleNodePlacement); the fleet issue replaces this
 * with a registry-backed placement (least-loaded origin, edges for viewers).
 */
export interface Placement {
  origin(sessionId: string): Promise<NodeRef>;
  forViewer(sessionId: string, originNodeId: string): Promise<NodeRef>;
  /** The node with this id, or null when it is not (or no longer) known. */
  node(nodeId: string): Promise<NodeRef | null>;
  /** Every node carrying the session now (origin and edges): where its viewers are. */
  nodesOf(sessionId: string, originNodeId: string): Promise<NodeRef[]>;
}

/** The one node of SFU_URL / SFU_NODE_ID / SFU_PUBLIC_WS_URL: origin and edge of every live. */
export class SingleNodePlacement implements Placement {
  readonly #node: NodeRef;

  constructor(config: Pick<Config, 'sfuUrl' | 'sfuNodeId' | 'sfuPublicWsUrl'>) {
    this.#node = Object.freeze({ id: config.sfuNodeId, publicWsUrl: config.sfuPublicWsUrl, controlUrl: config.sfuUrl });
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
}
