import type { Redis } from 'ioredis';

/**
 * Compare-and-set of a session's origin. KEYS[1] = session(sid); ARGV[1] = the origin read before
 * choosing ('' for none), ARGV[2] = the chosen node. When the hash still names ARGV[1], a different
 * origin resets the hash first (the old tree fed from a dead origin is void) and writes the new one;
 * when another replica changed it meanwhile, nothing is written. Returns the origin the hash names
 * after the call ('' for none).
 */
const SET_ORIGIN_LUA = `
local current = redis.call('HGET', KEYS[1], 'origin') or ''
if current ~= ARGV[1] then return current end
if current ~= ARGV[2] then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'origin', ARGV[2])
end
return ARGV[2]
`;

interface SetOriginCommand {
  fleetSetOrigin(sessionKey: string, expected: string, chosen: string): Promise<string>;
}

const defined = new WeakSet<Redis>();

/** See SET_ORIGIN_LUA; `expected` null means the hash had no origin. */
export async function setOrigin(redis: Redis, sessionKey: string, expected: string | null, chosen: string): Promise<string | null> {
  if (!defined.has(redis)) {
    redis.defineCommand('fleetSetOrigin', { lua: SET_ORIGIN_LUA, numberOfKeys: 1 });
    defined.add(redis);
  }
  const now = await (redis as Redis & SetOriginCommand).fleetSetOrigin(sessionKey, expected ?? '', chosen);
  return now === '' ? null : now;
}
