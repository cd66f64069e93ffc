import { z } from 'zod';

/**
 * The SFU fleet's contract, shared by the nodes (sfu), the control plane (server) and the
 * operator scripts (deploy/fleet). Redis is the only coordination:
 *
 * - **Registry.** Every node writes its `NodeStatus` (JSON) to `node(id)` every HEARTBEAT_MS with
 *   a TTL, and its heartbeat time to the `nodes` sorted set (score = ms since the epoch). A node
 *   whose last heartbeat is older than DEAD_AFTER_MS (three missed) is dead for placement, and its
 *   neighbours in a session's tree drop their pipes to it.
 * - **Session tree.** `session(sid)` is a hash: `origin` → the origin node's id (written by the
 *   control plane when the live starts or resumes on a new origin; the tree is reset then), and
 *   `parent:<nodeId>` → the node feeding that edge (written by the edge when it attaches, under
 *   the `sessionLock(sid)` lock). The origin feeds at most K nodes (SFU_RELAY_FANOUT); the others
 *   hang below them, so the origin's egress stays bounded however many viewers come.
 * - **Placements.** `placed(sid, nodeId)` is a sorted set of recent placements (member = a random
 *   id, score = ms), so a burst of viewers is counted before their nodes report them.
 * - **Node RPC.** Each node subscribes to `rpc(nodeId)`; `NodeMessage`s arrive there, and replies go
 *   to the sender's channel with the request's `reqId`.
 */
export const FLEET_HEARTBEAT_MS = 1000;
export const FLEET_DEAD_AFTER_MS = 3 * FLEET_HEARTBEAT_MS;
/** How long the status key lives without a new heartbeat (the sorted set is what decides "dead"). */
export const FLEET_STATUS_TTL_MS = 10 * FLEET_HEARTBEAT_MS;
/** How long a placement counts for its node before the node's own report takes over. */
export const FLEET_PLACEMENT_WINDOW_MS = 10_000;
/** A node request's deadline (pipe set-up between nodes). */
export const FLEET_RPC_TIMEOUT_MS = 3000;
export const DEFAULT_REDIS_PREFIX = 'podlive:';
/**
 * A node's default capacity per mediasoup worker, in consumers: 80 % of what one worker core
 * carried before saturating in `npm run bench` (deploy/bench/REPORT.md, fan-out: 800 video
 * consumers per core, 920 audio-only, on this 2-core machine). SFU_CAPACITY overrides it for a
 * node whose cores are faster or slower.
 */
export const CONSUMERS_PER_WORKER = 640;

export function fleetKeys(prefix = DEFAULT_REDIS_PREFIX) {
  return {
    nodes: `${prefix}fleet:nodes`,
    node: (nodeId: string) => `${prefix}fleet:node:${nodeId}`,
    rpc: (nodeId: string) => `${prefix}fleet:rpc:${nodeId}`,
    session: (sid: string) => `${prefix}fleet:session:${sid}`,
    /** Signed-in viewers given the session's HLS (sorted set: user id → until when, ms). */
    hls: (sid: string) => `${prefix}fleet:hls:${sid}`,
    sessionLock: (sid: string) => `${prefix}fleet:session:${sid}:lock`,
    placed: (sid: string, nodeId: string) => `${prefix}fleet:placed:${sid}:${nodeId}`,
    /** Recent placements on a node for every live (member = the placement's id, score = ms): its capacity check. */
    nodePlaced: (nodeId: string) => `${prefix}fleet:node-placed:${nodeId}`,
    /** Set (with a TTL) when the control plane ended the live: no node makes its room again. */
    ended: (sid: string) => `${prefix}fleet:ended:${sid}`,
  };
}
export type FleetKeys = ReturnType<typeof fleetKeys>;

/** The `session(sid)` hash field naming an edge's feeding node. */
export const PARENT_FIELD = 'parent:';
/**
 * The `session(sid)` hash field holding the operator's WebRTC cap for that live
 * (`npm run fleet -- cap <session> <n>`): viewers past it are answered with the live's HLS.
 */
export const WEBRTC_CAP_FIELD = 'webrtcCap';

export const nodeIdSchema = z.string().regex(/^[\w.-]{1,64}$/, 'node ids are 1–64 letters, digits, _ . -');

export const workerLoadSchema = z.object({
  index: z.number().int().min(0),
  pid: z.number().int(),
  routers: z.number().int().min(0),
  consumers: z.number().int().min(0),
  producers: z.number().int().min(0),
  /** Share of one core over the last heartbeat period (0–1). */
  cpu: z.number().min(0),
});
export type WorkerLoadReport = z.infer<typeof workerLoadSchema>;

export const sessionLoadSchema = z.object({
  viewers: z.number().int().min(0),
  guests: z.number().int().min(0),
  hosts: z.number().int().min(0),
  /** The node feeding this one, when it is an edge (none on the origin). */
  parent: nodeIdSchema.optional(),
  /** Nodes this one feeds. */
  children: z.array(nodeIdSchema),
});
export type SessionLoad = z.infer<typeof sessionLoadSchema>;

export const nodeStatusSchema = z.object({
  id: nodeIdSchema,
  /** The protoo WebSocket URL browsers open. */
  publicWsUrl: z.string().min(1),
  /** The node's HTTP endpoint (/health, /control) for the control plane. */
  controlUrl: z.string().min(1),
  /** The address other nodes' PipeTransports reach this node on. */
  pipeIp: z.string().min(1),
  region: z.string().min(1).max(64),
  /** Consumers this node is meant to carry in all (placement treats it as full beyond). */
  capacity: z.number().int().min(1),
  /** Accepts no new viewers; moving its viewers away. */
  draining: z.boolean(),
  pid: z.number().int(),
  startedAt: z.number(),
  /** ms since the epoch of this report. */
  ts: z.number(),
  load: z.object({
    peers: z.number().int().min(0),
    consumers: z.number().int().min(0),
    producers: z.number().int().min(0),
    /** Bits per second sent to clients (WebRTC transports), sampled every few heartbeats; pipes not counted. */
    egressBps: z.number().min(0),
    workers: z.array(workerLoadSchema),
  }),
  sessions: z.record(z.string(), sessionLoadSchema),
});
export type NodeStatus = z.infer<typeof nodeStatusSchema>;

/** How full a node is for placement (0 = idle, 1 = at capacity or a worker at a full core). */
export function nodeLoadScore(status: NodeStatus): number {
  const busiestWorker = Math.max(0, ...status.load.workers.map((w) => w.cpu));
  return Math.max(status.load.consumers / status.capacity, busiestWorker);
}

// ---- node RPC ---------------------------------------------------------------------------------

/** What a node needs to recreate a producer of the session on its side of a pipe (same id). */
export const pipedProducerSchema = z.object({
  id: z.string().min(1).max(64),
  kind: z.enum(['audio', 'video']),
  /** mediasoup RtpParameters of the pipe consumer (opaque here; mediasoup validates them). */
  rtpParameters: z.record(z.string(), z.unknown()),
  paused: z.boolean(),
  /** The producing peer on whichever node it is, its user, and what it captures. */
  appData: z.object({ peerId: z.string().min(1).max(128), userId: z.string().min(1).max(64), source: z.string().max(32) }),
});
export type PipedProducer = z.infer<typeof pipedProducerSchema>;

const srtpSchema = z.object({ cryptoSuite: z.string().min(1), keyBase64: z.string().min(1) });
export const pipeEndSchema = z.object({ ip: z.string().min(1), port: z.number().int().min(1).max(65535), srtp: srtpSchema.optional() });
export type PipeEnd = z.infer<typeof pipeEndSchema>;

const base = { sid: z.string().min(1).max(64), from: nodeIdSchema };

export const nodeMessageSchema = z.discriminatedUnion('type', [
  /** Downstream → upstream: open a pipe for the session; the answer is a PipeOpened reply. */
  z.object({ type: z.literal('pipe.open'), reqId: z.string().min(1).max(64), ...base, end: pipeEndSchema }),
  /** Either way along a pipe: a producer now flows on it (the sender already consumes it into the pipe). */
  z.object({ type: z.literal('pipe.producer'), ...base, producer: pipedProducerSchema }),
  z.object({ type: z.literal('pipe.producerClosed'), ...base, producerId: z.string().min(1).max(64) }),
  z.object({ type: z.literal('pipe.producerPaused'), ...base, producerId: z.string().min(1).max(64), paused: z.boolean() }),
  /**
   * The pipe is gone. `ended`: the live ended (the receiver closes its room, its viewers are told);
   * otherwise the receiver drops what came through it and, if it was its upstream, attaches again.
   */
  z.object({ type: z.literal('pipe.close'), ...base, reason: z.enum(['ended', 'left', 'lost']) }),
  z.object({ type: z.literal('reply'), reqId: z.string().min(1).max(64), from: nodeIdSchema, ok: z.boolean(), data: z.unknown().optional(), error: z.string().max(500).optional() }),
  /** Operator: stop taking viewers and move them away (and stop the process once empty, with `stop`). */
  z.object({ type: z.literal('drain'), stop: z.boolean(), from: z.string().min(1).max(64) }),
]);
export type NodeMessage = z.infer<typeof nodeMessageSchema>;
export type NodeMessageOf<T extends NodeMessage['type']> = Extract<NodeMessage, { type: T }>;

/** The upstream's answer to pipe.open: its end of the pipe and every producer it sends now. */
export const pipeOpenedSchema = z.object({ end: pipeEndSchema, producers: z.array(pipedProducerSchema) });
export type PipeOpened = z.infer<typeof pipeOpenedSchema>;

// ---- the session tree (pure, used by the nodes when an edge attaches) --------------------------

export interface SessionTree {
  origin: string | null;
  /** edge → the node feeding it. */
  parents: Map<string, string>;
}

export function parseSessionTree(hash: Record<string, string>): SessionTree {
  const parents = new Map<string, string>();
  for (const [field, value] of Object.entries(hash)) if (field.startsWith(PARENT_FIELD)) parents.set(field.slice(PARENT_FIELD.length), value);
  return { origin: hash.origin ?? null, parents };
}

/** Every node below `node` in the tree (its children, theirs, ...). */
export function descendants(tree: SessionTree, node: string): Set<string> {
  const below = new Set<string>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of tree.parents) {
      if ((parent === node || below.has(parent)) && !below.has(child)) {
        below.add(child);
        grew = true;
      }
    }
  }
  return below;
}

/**
 * The node `self` should be fed by: the shallowest live node of the tree (the origin first) that
 * feeds fewer than `fanout` nodes, never `self` or one of its descendants (no cycles when an edge
 * attaches again). Ties go to the node feeding fewer, then to the lowest id. Null when the origin is
 * unknown or dead (nothing to attach to yet).
 */
export function chooseParent(tree: SessionTree, self: string, fanout: number, alive: (nodeId: string) => boolean): string | null {
  if (tree.origin === null || !alive(tree.origin) || tree.origin === self) return null;
  const excluded = descendants(tree, self);
  excluded.add(self);
  const children = new Map<string, number>();
  for (const [child, parent] of tree.parents) if (child !== self && alive(child)) children.set(parent, (children.get(parent) ?? 0) + 1);
  // Breadth-first from the origin over live nodes that are attached (reachable).
  let level = [tree.origin];
  const seen = new Set(level);
  while (level.length > 0) {
    const open = level
      .filter((n) => !excluded.has(n) && (children.get(n) ?? 0) < fanout)
      .sort((a, b) => (children.get(a) ?? 0) - (children.get(b) ?? 0) || a.localeCompare(b));
    if (open[0] !== undefined) return open[0];
    const next: string[] = [];
    for (const [child, parent] of tree.parents) {
      if (level.includes(parent) && !seen.has(child) && alive(child) && !excluded.has(child)) {
        seen.add(child);
        next.push(child);
      }
    }
    level = next;
  }
  // Every reachable node is full: the origin takes one more rather than leave the edge unfed.
  return tree.origin;
}
