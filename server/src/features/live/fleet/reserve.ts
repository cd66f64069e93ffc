import type { Redis } from 'ioredis';

/**
 * The viewer placement decision, run as one Lua script so it is atomic across server replicas: the
 * placements another replica just made are counted before this one checks an edge's room, so two
 * replicas can never both put viewer #limit+1 on the same edge, nor both open a new edge when one
 * new edge would do.
 *
 * KEYS: placed(sid, node) of each candidate in fill order (sorted by id), then the origin's when
 * the origin may take viewers; then nodePlaced(node) of each candidate, then the origin's.
 * ARGV: now, cutoff (placements older than this no longer count), window (ms, the keys' TTL),
 * limit, member (this placement's id), n (candidates), originOpen ('1'/'0'), consumers per viewer,
 * the connect grace (ms);
 * then per candidate and then for the origin (when open): carrying ('1' when the tree or the node's
 * report says it carries the session), reported viewers, the report's time, rank (0 = least
 * loaded), room (consumers the node can still take by its report: capacity − consumers).
 *
 * A candidate's count is max(reported + placements since the report, placements in the window):
 * the report cannot include viewers sent there after it was written (one placed in the report's
 * millisecond is counted again rather than missed), and placements still in the window may not
 * have connected yet. A node is full when its room, less the viewers placed on it (for any live)
 * since CONNECT_GRACE_MS before its report, cannot fit one more viewer's consumers: a full node takes nobody, whatever the
 * fallback. Returns the 1-based key index taken, or 0 when none.
 */
const RESERVE_LUA = `
local now, cutoff, window, limit, member = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local n, originOpen, perViewer, grace = tonumber(ARGV[6]), ARGV[7] == '1', tonumber(ARGV[8]), tonumber(ARGV[9])
local sessionKeys = originOpen and n + 1 or n
local function arg(i, field) return ARGV[9 + (i - 1) * 5 + field] end
local function take(i)
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], window)
  local nodeKey = KEYS[sessionKeys + i]
  redis.call('ZADD', nodeKey, now, member)
  redis.call('PEXPIRE', nodeKey, window)
  return i
end

local count, carrying, fits = {}, {}, {}
for i = 1, sessionKeys do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. cutoff)
  local recent = redis.call('ZCARD', KEYS[i])
  local since = redis.call('ZCOUNT', KEYS[i], arg(i, 3), '+inf')
  count[i] = math.max(tonumber(arg(i, 2)) + since, recent)
  carrying[i] = arg(i, 1) == '1' or recent > 0
  local nodeKey = KEYS[sessionKeys + i]
  redis.call('ZREMRANGEBYSCORE', nodeKey, '-inf', '(' .. cutoff)
  local placedSince = redis.call('ZCOUNT', nodeKey, tonumber(arg(i, 3)) - grace, '+inf')
  fits[i] = tonumber(arg(i, 5)) - placedSince * perViewer >= perViewer
end

for i = 1, n do
  if fits[i] and carrying[i] and count[i] < limit then return take(i) end
end

local best, bestRank = 0, nil
for i = 1, n do
  local rank = tonumber(arg(i, 4))
  if fits[i] and not carrying[i] and (bestRank == nil or rank < bestRank) then best, bestRank = i, rank end
end
if best > 0 then return take(best) end

if originOpen and fits[n + 1] then return take(n + 1) end

for i = 1, n do
  if fits[i] and (best == 0 or count[i] < count[best]) then best = i end
end
if best > 0 then return take(best) end
return 0
`;

/** Consumers one viewer takes on its node: the host's audio and video. */
export const CONSUMERS_PER_VIEWER = 2;

/**
 * A viewer placed shortly before a node's report may not have connected by then: the capacity
 * check counts the placements of this long before the report too (some counted twice: the node
 * looks a little fuller than it is, never emptier). The 100,000-viewer simulation overfilled every
 * node by 1.7 % when only the placements after the report counted.
 */
export const CONNECT_GRACE_MS = 2000;

export interface ReserveCandidate {
  /** placed(sid, node). */
  placedKey: string;
  /** nodePlaced(node): the node's placements for every live. */
  nodePlacedKey: string;
  /** Consumers the node can still take by its report (capacity − consumers). */
  room: number;
  /** In the session's tree, or the node reports a room for it. */
  carrying: boolean;
  /** The node's own count of the session's viewers, and when it reported it (ms). */
  reportedViewers: number;
  reportedAt: number;
  /** Position in least-loaded order (0 = least loaded). */
  rank: number;
}

export interface ReserveRequest {
  /** In fill order. */
  candidates: ReserveCandidate[];
  /** The origin when it may take viewers (alive, not draining, not excluded); its rank is unused. */
  origin: ReserveCandidate | null;
  now: number;
  windowMs: number;
  limit: number;
  /** A unique id for this placement (the sorted-set member). */
  member: string;
}

/** Where the viewer went: a candidate's index, the origin, or nowhere. */
export type Reserved = { kind: 'candidate'; index: number } | { kind: 'origin' } | { kind: 'none' };

interface ReserveCommand {
  fleetReserveViewer(numberOfKeys: number, ...args: Array<string | number>): Promise<number>;
}

const defined = new WeakSet<Redis>();

/** Runs the script (EVALSHA, loading it once per connection) and records the placement it made. */
export async function reserveViewer(redis: Redis, request: ReserveRequest): Promise<Reserved> {
  if (!defined.has(redis)) {
    redis.defineCommand('fleetReserveViewer', { lua: RESERVE_LUA });
    defined.add(redis);
  }
  const { candidates, origin } = request;
  const all = origin === null ? candidates : [...candidates, origin];
  const keys = [...all.map((c) => c.placedKey), ...all.map((c) => c.nodePlacedKey)];
  const args: Array<string | number> = [
    request.now,
    request.now - request.windowMs,
    request.windowMs,
    request.limit,
    request.member,
    candidates.length,
    origin === null ? '0' : '1',
    CONSUMERS_PER_VIEWER,
    CONNECT_GRACE_MS,
  ];
  for (const c of all) args.push(c.carrying ? '1' : '0', c.reportedViewers, c.reportedAt, c.rank, c.room);
  const taken = await (redis as Redis & ReserveCommand).fleetReserveViewer(keys.length, ...keys, ...args);
  if (taken === 0) return { kind: 'none' };
  if (taken === candidates.length + 1) return { kind: 'origin' };
  return { kind: 'candidate', index: taken - 1 };
}
