import type { ControlPeer } from '@podlive/shared/control';
import type { NodeRef } from '../live/placement';
import { roomPeers } from '../live/sfu-control';
import { Coalescer } from './coalesce';
import type { StageContext } from './context';

/** A peer of the session's room, with the node it is on. */
export interface WatchingPeer extends ControlPeer {
  node: NodeRef;
}

const peerLists = new WeakMap<StageContext, Coalescer<WatchingPeer[]>>();

async function fetchPeers(ctx: StageContext, sessionId: string, originNodeId: string): Promise<WatchingPeer[]> {
  const nodes = await ctx.placement.nodesOf(sessionId, originNodeId);
  const lists = await Promise.all(
    nodes.map(async (node) => (await roomPeers(node, sessionId, ctx.mediaSecret)).peers.map((peer) => ({ ...peer, node }))),
  );
  return lists.flat();
}

/**
 * Everyone connected to the session's room on any of its nodes (GET /control/rooms/:id/peers).
 * Requests arriving while one is in flight share its answer.
 */
export function sessionPeers(ctx: StageContext, sessionId: string, originNodeId: string): Promise<WatchingPeer[]> {
  let coalescer = peerLists.get(ctx);
  if (coalescer === undefined) peerLists.set(ctx, (coalescer = new Coalescer()));
  return coalescer.run(sessionId, () => fetchPeers(ctx, sessionId, originNodeId));
}

/** The node the user watches the session on (their first peer there), or null when not connected. */
export async function watchingNode(ctx: StageContext, sessionId: string, originNodeId: string, userId: string): Promise<NodeRef | null> {
  const peers = await sessionPeers(ctx, sessionId, originNodeId);
  return peers.find((peer) => peer.userId === userId)?.node ?? null;
}
