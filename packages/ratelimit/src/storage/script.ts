import { sha1Hex } from '../_runtime.js';
import { MAX_COUNT, SLIDING_BUCKETS } from './algorithms.js';

// The algorithms of `algorithms.ts`, in Lua, for Redis, Valkey and Upstash: one call checks every rule of a
// request and consumes from all of them only if all pass. No shebang flags (vanilla Redis 7.0 rejects
// Upstash's), only commands of Redis 6.2. Numbers are passed to redis.call as Lua numbers: Redis formats
// them with %.17g, exact for every integer below 2^53 and round-tripping every double. Expiries are relative
// to the caller's clock (PX, PEXPIRE), so a skew between the caller and Redis never expires a key early.
//
// KEYS: one key per rule.  ARGV: mode ('c' consume | 'p' peek), count denied ('1' | '0'), now, cost, member,
// then per rule: algorithm, limit, window, resetAt, expireAt.
// Reply: per rule, allowed (1 | 0), used, reset, retryAt.
const source = `
local floor, ceil, max, min, match, call, pcall = math.floor, math.ceil, math.max, math.min, string.match, redis.call, redis.pcall
local consume, count_denied = ARGV[1] == 'c', ARGV[2] == '1'
local now, cost, member = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local n, s, pass = #KEYS, {}, true

-- A call that fails leaves every key as it was: undo the optimistic INCRBYs of rules 1 to i - 1, then
-- answer the error. A key that holds what this script did not write (another type, or not a number) is a
-- misconfiguration, not an outage: it is answered as WRONGTYPE, which the client rejects with instead of
-- applying its failure policy. Other errors (OOM, ...) are answered as they are.
local function fail(i, err, what)
  for k = 1, i - 1 do
    if consume and ARGV[5 * k + 1] == 'fixed' then
      if s[7 * (k - 1) + 1] <= 0 then call('DEL', KEYS[k]) else call('INCRBY', KEYS[k], -cost) end
    end
  end
  if err and not (match(err, '^WRONGTYPE') or match(err, '^ERR value is not') or match(err, 'overflow')) then
    return redis.error_reply(err)
  end
  return redis.error_reply('WRONGTYPE key ' .. KEYS[i] .. ' holds ' .. (what or err) .. ', not what periodkey writes for a ' .. ARGV[5 * i + 1] .. ' rule')
end

-- Read every rule's state and decide whether this call fits. s holds 7 slots per rule; no tables per
-- rule, so a call leaves little garbage for Lua's collector. Every command here may fail (pcall): the
-- first error ends the call through fail().
for i = 1, n do
  local key, j, o = KEYS[i], 5 * i, 7 * (i - 1)
  local algo, limit, window = ARGV[j + 1], tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  local fits
  if algo == 'fixed' then
    -- Consume optimistically (INCRBY keeps the TTL, so an admitted call costs one command); a call that
    -- is not applied is rolled back below.
    local used
    if consume then
      local r = pcall('INCRBY', key, cost)
      if type(r) == 'table' then return fail(i, r.err) end
      used = r - cost
    else
      local r = pcall('GET', key)
      if type(r) == 'table' then return fail(i, r.err) end
      used = tonumber(r or '0')
      if not used then return fail(i, nil, 'a value that is not a count') end
    end
    s[o + 1] = used
    fits = cost <= 0 or used + cost <= limit
  elseif algo == 'sliding' then
    local raw = pcall('ZRANGEBYSCORE', key, '(' .. (now - window), '+inf', 'WITHSCORES')
    if raw.err then return fail(i, raw.err) end
    -- Calls within one bucket of the window share one entry (see SLIDING_BUCKETS): at is the entry of
    -- now's bucket, if there is one.
    local width, sum, at = max(1, floor(window / ${SLIDING_BUCKETS})), 0, false
    local bucket = floor(now / width)
    for k = 1, #raw, 2 do
      local c = tonumber(match(raw[k], ':(-?%d+)$'))
      if not c then return fail(i, nil, 'a sliding-log entry ' .. raw[k]) end
      sum = sum + c
      if floor(tonumber(raw[k + 1]) / width) == bucket then at = k end
    end
    fits = cost <= 0 or max(0, sum) + cost <= limit
    s[o + 1], s[o + 2], s[o + 3] = sum, raw, at
  elseif algo == 'sliding-counter' then
    local idx = floor(now / window)
    local h = pcall('HMGET', key, 'w', 'c', 'p')
    if h.err then return fail(i, h.err) end
    local w, cur, prev = tonumber(h[1]), 0, 0
    if w == idx then cur, prev = tonumber(h[2]), tonumber(h[3]) elseif w == idx - 1 then prev = tonumber(h[2]) end
    if (h[1] and not w) or not cur or not prev then return fail(i, nil, 'a counter that is not a number') end
    local est = floor((prev * (window - (now - idx * window))) / window)
    fits = cost <= 0 or est + cur + cost <= limit
    s[o + 1], s[o + 2], s[o + 3], s[o + 4] = idx, cur, prev, est
  elseif algo == 'token-bucket' then
    local h = pcall('HMGET', key, 't', 'ts')
    if h.err then return fail(i, h.err) end
    local tokens = limit
    if h[1] then
      local t, ts = tonumber(h[1]), tonumber(h[2])
      if not (t and ts) then return fail(i, nil, 'a bucket that is not a number') end
      tokens = min(limit, t + max(0, now - ts) * (limit / window))
    end
    fits = cost <= 0 or cost <= tokens
    s[o + 1] = tokens
  else -- gcra
    local r = pcall('GET', key)
    if type(r) == 'table' then return fail(i, r.err) end
    local tat = now
    if r then tat = tonumber(r) end
    if not tat then return fail(i, nil, 'a time that is not a number') end
    tat = max(tat, now)
    local nxt = max(now, tat + cost * (window / limit))
    fits = cost <= 0 or nxt - now <= window
    s[o + 1], s[o + 2] = tat, nxt
  end
  s[o + 5], s[o + 6], s[o + 7] = fits, limit, window
  if not fits then pass = false end
end

-- Answer every rule, and write if the call is applied: all rules fit, or denied calls count. Every key
-- read above has the type and values its algorithm writes, so these commands do not fail; each write
-- sets the key's TTL.
local apply = consume and (pass or count_denied)
local out = {}
for i = 1, n do
  local key, j, o = KEYS[i], 5 * i, 7 * (i - 1)
  local algo, fits, limit, window = ARGV[j + 1], s[o + 5], s[o + 6], s[o + 7]
  local used, reset, retry
  if algo == 'fixed' then
    local reset_at = tonumber(ARGV[j + 4])
    used, reset, retry = s[o + 1], reset_at, reset_at
    if apply then
      -- A count of zero is no key at all; a key that leaves zero gets its TTL now.
      if used + cost <= 0 then call('DEL', key) elseif used <= 0 then call('PEXPIRE', key, tonumber(ARGV[j + 5]) - now) end
      used = max(0, used + cost)
      if used > ${MAX_COUNT} then used = ${MAX_COUNT}; call('SET', key, used, 'KEEPTTL') end
    elseif consume then
      if used <= 0 then call('DEL', key) else call('INCRBY', key, -cost) end
    end
  elseif algo == 'sliding' then
    local sum, raw, at = s[o + 1], s[o + 2], s[o + 3]
    local last = now
    if #raw > 0 then last = tonumber(raw[#raw]) end
    used, reset, retry = max(0, sum), now, now
    if #raw > 0 then reset, retry = last + window, last + window end
    if not fits and cost <= limit then
      local freed = 0
      for k = 1, #raw, 2 do
        freed = freed + tonumber(match(raw[k], ':(-?%d+)$'))
        if used - freed + cost <= limit then retry = tonumber(raw[k + 1]) + window; break end
      end
    end
    if apply then
      used, reset = max(0, sum + cost), max(last, now) + window
      call('ZREMRANGEBYSCORE', key, '-inf', now - window)
      if cost < 0 then
        -- A refund takes back from the newest calls, never below zero (see refunded() in algorithms.ts).
        local left = -cost
        for k = #raw - 1, 1, -2 do
          if left <= 0 then break end
          local c = tonumber(match(raw[k], ':(-?%d+)$'))
          if c > 0 then
            local take = min(c, left)
            left = left - take
            call('ZREM', key, raw[k])
            if c > take then
              call('ZADD', key, raw[k + 1], member .. '.' .. string.format('%d', (k + 1) / 2) .. ':' .. string.format('%d', c - take))
            end
          end
        end
      else
        local c, score = cost, now
        if at then
          c, score = min(${MAX_COUNT}, c + tonumber(match(raw[at], ':(-?%d+)$'))), max(now, tonumber(raw[at + 1]))
          call('ZREM', key, raw[at])
        end
        if c ~= 0 then call('ZADD', key, score, member .. ':' .. string.format('%d', c)) end
      end
      call('PEXPIRE', key, reset - now)
    end
  elseif algo == 'sliding-counter' then
    local idx, cur, prev, est = s[o + 1], s[o + 2], s[o + 3], s[o + 4]
    local c = cur
    if apply then c = min(${MAX_COUNT}, max(0, cur + cost)) end
    used, reset = est + c, now
    if c > 0 then reset = (idx + 2) * window elseif est > 0 then reset = (idx + 1) * window end
    retry = now
    if cur > 0 then retry = (idx + 2) * window elseif est > 0 then retry = (idx + 1) * window end
    if not fits and cost <= limit then
      if cur + cost <= limit then
        retry = idx * window + ceil(window - (window * (limit - cur - cost)) / prev)
      else
        retry = (idx + 1) * window + ceil(window - (window * (limit - cost)) / cur)
      end
    end
    if apply then
      call('HSET', key, 'w', idx, 'c', c, 'p', prev)
      call('PEXPIRE', key, (idx + 2) * window - now)
    end
  elseif algo == 'token-bucket' then
    local tokens, rate = s[o + 1], limit / window
    if cost > limit then
      retry = now
      if tokens < limit then retry = now + ceil((limit - tokens) / rate) end
    else
      retry = now + ceil((cost - tokens) / rate)
    end
    if apply then tokens = max(-${MAX_COUNT}, min(limit, tokens - cost)) end
    used, reset = limit - floor(tokens), now
    if tokens < limit then reset = now + ceil((limit - tokens) / rate) end
    if apply then
      if tokens >= limit then call('DEL', key) else
        call('HSET', key, 't', tokens, 'ts', now)
        call('PEXPIRE', key, reset - now)
      end
    end
  else -- gcra
    local tat, nxt = s[o + 1], s[o + 2]
    retry = ceil(nxt - window)
    if cost > limit then retry = ceil(tat) end
    if apply then tat = nxt end
    used, reset = floor((tat - now) / (window / limit) + 0.5), ceil(tat)
    if apply then
      if tat <= now then call('DEL', key) else call('SET', key, tat, 'PX', ceil(tat) - now) end
    end
  end
  out[4 * i - 3], out[4 * i - 2], out[4 * i - 1], out[4 * i] = fits and 1 or 0, used, reset, fits and 0 or retry
end
return out
`.trim();

/** The limiter's Lua script and its SHA1, for EVALSHA with a fallback to EVAL on NOSCRIPT. */
export const LIMIT_SCRIPT = {
  source,
  sha: sha1Hex(source),
} as const;
