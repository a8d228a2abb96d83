import type { Redis } from 'ioredis';

/** What the legacy flush deletes: seed 000's pattern. */
export const LEGACY_MATCH = 'ratelimit:*';

// Creates keys `ratelimit:<user|ip|token>:<i>:/api/chat` for i in [from, to) inside Redis, which is several
// times faster than sending the commands: 1M keys take a few seconds. Like the data an unversioned limiter
// leaves behind: 8 in 10 are counters (strings), 1 a hash (token bucket), 1 a sorted set (sliding log);
// every key has a 30-day TTL.
const SEED = `
local from, to = tonumber(ARGV[1]), tonumber(ARGV[2])
local who = { 'user:', 'ip:', 'token:' }
for i = from, to - 1 do
  local key = 'ratelimit:' .. who[i % 3 + 1] .. i .. ':/api/chat'
  local kind = i % 10
  if kind == 0 then
    redis.call('HSET', key, 'tokens', 7, 'ts', 1767225600000)
    redis.call('PEXPIRE', key, 2592000000)
  elseif kind == 1 then
    redis.call('ZADD', key, 1767225600000, 'a', 1767225600001, 'b', 1767225600002, 'c')
    redis.call('PEXPIRE', key, 2592000000)
  else
    redis.call('SET', key, 3, 'PX', 2592000000)
  end
end
return to - from
`;

/** Keys per script call: tens of ms of Redis time, so that seeding never holds the server for long. */
const CHUNK = 10_000;

/** Writes `count` legacy keys matching {@link LEGACY_MATCH}, always the same ones for the same count. */
export async function seedLegacyKeys(redis: Redis, count: number): Promise<void> {
  const sha = (await redis.script('LOAD', SEED)) as string;
  for (let from = 0; from < count; from += CHUNK) {
    await redis.evalsha(sha, 0, from, Math.min(count, from + CHUNK));
  }
}
