import type { ControlPeer } from '@podlive/shared/control';
import type { NodeRef } from '../live/placement';
import { roomPeers } from '../live/sfu-control';
import { Coalescer } from './coalesce';
import type { StageContext } from './context';

/** A peer of the session's room, with the node it is on. */
export interface WatchingPeer extends ControlPeer {
  node: NodeRef;
}

/** The peers of every node that answered, and the nodes that did not (unreachable, refusing). */
export interface SessionPeers {
  peers: WatchingPeer[];
  unreachable: NodeRef[];
}

const peerLists = new WeakMap<StageContext, Coalescer<SessionPeers>>();

async function fetchPeers(ctx: StageContext, sessionId: string, originNodeId: string): Promise<SessionPeers> {
  const nodes = await ctx.placement.nodesOf(sessionId, originNodeId);
  const lists = await Promise.allSettled(nodes.map(async (node) => (await roomPeers(node, sessionId, ctx.mediaKey)).peers.map((peer) => ({ ...peer, node }))));
  const result: SessionPeers = { peers: [], unreachable: [] };
  lists.forEach((list, i) => {
    if (list.status === 'fulfilled') result.peers.push(...list.value);
    else {
      ctx.log.warn({ err: list.reason, sessionId, nodeId: nodes[i]?.id }, 'listing the room’s peers on a media node failed');
      result.unreachable.push(nodes[i] as NodeRef);
    }
  });
  // One node down among several still answers for the others; none answering is an outage.
  if (nodes.length > 0 && result.unreachable.length === nodes.length) throw (lists[0] as PromiseRejectedResult).reason;
  return result;
}

/**
 * Everyone connected to the session's room on any of its nodes (GET /control/rooms/:id/peers), and
 * the nodes that could not be asked. Requests arriving while one is in flight share its answer.
 */
export function sessionPeers(ctx: StageContext, sessionId: string, originNodeId: string): Promise<SessionPeers> {
  let coalescer = peerLists.get(ctx);
  if (coalescer === undefined) peerLists.set(ctx, (coalescer = new Coalescer()));
  return coalescer.run(sessionId, () => fetchPeers(ctx, sessionId, originNodeId));
}

/**
 * The node the user watches the session on (their first peer there: with several nodes, each is
 * asked), or null when not connected. Rejects when the user is not found and a node could not be
 * asked (they may be there).
 */
export async function watchingNode(ctx: StageContext, sessionId: string, originNodeId: string, userId: string): Promise<NodeRef | null> {
  const { peers, unreachable } = await sessionPeers(ctx, sessionId, originNodeId);
  const node = peers.find((peer) => peer.userId === userId)?.node;
  if (node !== undefined) return node;
  if (unreachable.length > 0) throw new Error(`media node(s) ${unreachable.map((n) => n.id).join(', ')} could not be asked`);
  return null;
}
