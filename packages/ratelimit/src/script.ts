import { createHash } from 'node:crypto';

// The algorithms of `algorithms.ts`, in Lua, for Redis, Valkey and Upstash: one call checks every rule of a
// request and consumes from all of them only if all pass. No shebang flags (vanilla Redis 7.0 rejects
// Upstash's), only commands of Redis 6.2. Numbers go to Redis as strings formatted here: Lua's own
// conversion keeps 14 digits, which would round epoch milliseconds and token counts. Expiries are relative
// to the caller's clock (PX, PEXPIRE), so a skew between the caller and Redis never expires a key early.
//
// KEYS: one key per rule.  ARGV: mode ('c' consume | 'p' peek), count denied ('1' | '0'), now, cost, member,
// then per rule: algorithm, limit, window, resetAt, expireAt.
// Reply: per rule, allowed (1 | 0), used, reset, retryAt.
const source = `
local floor, ceil, max, min = math.floor, math.ceil, math.max, math.min
local function int(x) return string.format('%.0f', x) end
local function num(x) return string.format('%.17g', x) end
local mode, count_denied = ARGV[1], ARGV[2] == '1'
local now, cost, member = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]

local algos = {}

algos['fixed'] = function(key, limit, window, reset_at, expire_at)
  local used = tonumber(redis.call('GET', key) or '0')
  local nxt = max(0, used + cost)
  return {
    fits = cost <= 0 or used + cost <= limit, retry = reset_at,
    before = {used, reset_at}, after = {nxt, reset_at},
    write = function() redis.call('SET', key, int(nxt), 'PX', int(expire_at - now)) end,
  }
end

algos['sliding'] = function(key, limit, window, reset_at, expire_at)
  local raw = redis.call('ZRANGEBYSCORE', key, '(' .. int(now - window), '+inf', 'WITHSCORES')
  local scores, costs, sum = {}, {}, 0
  for i = 1, #raw, 2 do
    local c = tonumber(string.match(raw[i], ':(-?%d+)$'))
    scores[#scores + 1] = tonumber(raw[i + 1])
    costs[#costs + 1] = c
    sum = sum + c
  end
  local used = max(0, sum)
  local fits = cost <= 0 or used + cost <= limit
  local function reset(last) if last == nil then return now end return last + window end
  local before_reset = reset(scores[#scores])
  local after_last = scores[#scores]
  if after_last == nil or now >= after_last then after_last = now end
  local retry = before_reset
  if not fits and cost <= limit then
    local freed = 0
    for i = 1, #scores do
      freed = freed + costs[i]
      if used - freed + cost <= limit then retry = scores[i] + window; break end
    end
  end
  return {
    fits = fits, retry = retry,
    before = {used, before_reset}, after = {max(0, sum + cost), reset(after_last)},
    write = function()
      redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - window))
      redis.call('ZADD', key, int(now), member .. ':' .. int(cost))
      redis.call('PEXPIRE', key, int(window))
    end,
  }
end

algos['sliding-counter'] = function(key, limit, window, reset_at, expire_at)
  local idx = floor(now / window)
  local h = redis.call('HMGET', key, 'w', 'c', 'p')
  local w, cur, prev = tonumber(h[1]), 0, 0
  if w == idx then cur, prev = tonumber(h[2]), tonumber(h[3])
  elseif w == idx - 1 then prev = tonumber(h[2]) end
  local elapsed = now - idx * window
  local est = floor((prev * (window - elapsed)) / window)
  local used = est + cur
  local fits = cost <= 0 or used + cost <= limit
  local nxt = max(0, cur + cost)
  local function reset(c)
    if c > 0 then return (idx + 2) * window elseif est > 0 then return (idx + 1) * window end
    return now
  end
  local retry = reset(cur)
  if not fits and cost <= limit then
    if cur + cost <= limit then
      retry = idx * window + ceil(window - (window * (limit - cur - cost)) / prev)
    else
      retry = (idx + 1) * window + ceil(window - (window * (limit - cost)) / cur)
    end
  end
  return {
    fits = fits, retry = retry,
    before = {used, reset(cur)}, after = {est + nxt, reset(nxt)},
    write = function()
      redis.call('HSET', key, 'w', int(idx), 'c', int(nxt), 'p', int(prev))
      redis.call('PEXPIRE', key, int((idx + 2) * window - now))
    end,
  }
end

algos['token-bucket'] = function(key, limit, window, reset_at, expire_at)
  local rate = limit / window
  local h = redis.call('HMGET', key, 't', 'ts')
  local tokens = limit
  if h[1] then tokens = min(limit, tonumber(h[1]) + max(0, now - tonumber(h[2])) * rate) end
  local nxt = min(limit, tokens - cost)
  local function reset(t) if t >= limit then return now end return now + ceil((limit - t) / rate) end
  local retry = now + ceil((cost - tokens) / rate)
  if cost > limit then retry = reset(tokens) end
  return {
    fits = cost <= 0 or cost <= tokens, retry = retry,
    before = {limit - floor(tokens), reset(tokens)}, after = {limit - floor(nxt), reset(nxt)},
    write = function()
      if nxt >= limit then redis.call('DEL', key) return end
      redis.call('HSET', key, 't', num(nxt), 'ts', int(now))
      redis.call('PEXPIRE', key, int(reset(nxt) - now))
    end,
  }
end

algos['gcra'] = function(key, limit, window, reset_at, expire_at)
  local interval = window / limit
  local tat = max(tonumber(redis.call('GET', key) or now), now)
  local nxt = max(now, tat + cost * interval)
  local function used(t) return floor((t - now) / interval + 0.5) end
  local retry = ceil(nxt - window)
  if cost > limit then retry = ceil(tat) end
  return {
    fits = cost <= 0 or nxt - now <= window, retry = retry,
    before = {used(tat), ceil(tat)}, after = {used(nxt), ceil(nxt)},
    write = function()
      if nxt <= now then redis.call('DEL', key) return end
      redis.call('SET', key, num(nxt), 'PX', int(ceil(nxt) - now))
    end,
  }
end

local evals, pass = {}, true
for i, key in ipairs(KEYS) do
  local b = 5 + (i - 1) * 5
  local e = algos[ARGV[b + 1]](key, tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]))
  evals[i] = e
  if not e.fits then pass = false end
end
local apply = mode == 'c' and (pass or count_denied)
local out = {}
for _, e in ipairs(evals) do
  local o = e.before
  if apply then e.write(); o = e.after end
  local retry = 0
  if not e.fits then retry = e.retry end
  out[#out + 1] = e.fits and 1 or 0
  out[#out + 1] = o[1]
  out[#out + 1] = o[2]
  out[#out + 1] = retry
end
return out
`.trim();

/** The limiter's Lua script and its SHA1, for EVALSHA with a fallback to EVAL on NOSCRIPT. */
export const LIMIT_SCRIPT = {
  source,
  sha: createHash('sha1').update(source).digest('hex'),
} as const;
