-- Admission of one job against one rate-limit key (all keys under the key's hash tag).
-- Order: cooldown (provider said "wait"), daily quota, concurrency cap, then GCRA.
-- GCRA with reservation: when no slot is free now, the job *reserves* the next slot and
-- is told to come back exactly then (once), instead of polling.
-- KEYS[1]: tag prefix "{<ns>:rl:<key>}"
-- ARGV: interval_ms, tolerance_ms, daily_quota (0 none), concurrency (0 none), job_id,
--       lease_ms, reserved (1 if this job already holds a slot), max_reserve_ms
-- Returns {verdict, delay_ms, reserved}: verdict 1 = run now, 0 = defer for delay_ms.
local p = KEYS[1]
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local quota, concurrency = tonumber(ARGV[3]), tonumber(ARGV[4])
local job, lease, reserved = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local max_reserve = tonumber(ARGV[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local cooldown = tonumber(redis.call('GET', p .. ':cooldown') or '0')
if cooldown > now then return {0, cooldown - now, reserved} end

local day = math.floor(now / 86400000)
local day_key = p .. ':day:' .. day
if quota > 0 and reserved == 0 then
  if tonumber(redis.call('GET', day_key) or '0') >= quota then
    return {0, (day + 1) * 86400000 - now, 0}
  end
end

local leases = p .. ':leases'
if concurrency > 0 then
  redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
  if not redis.call('ZSCORE', leases, job) and redis.call('ZCARD', leases) >= concurrency then
    -- Leases are released when jobs finish; look again soon, at the latest at first expiry.
    local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
    return {0, math.max(1, math.min(250, tonumber(first[2]) - now)), reserved}
  end
end

local function take(tat)
  redis.call('SET', p .. ':tat', string.format('%d', tat + interval), 'PX', math.ceil(tat + interval - now + tolerance + 1000))
  if quota > 0 then
    redis.call('INCR', day_key)
    redis.call('PEXPIRE', day_key, 172800000)
  end
end

if reserved == 0 then
  local tat = tonumber(redis.call('GET', p .. ':tat') or '0')
  if tat < now then tat = now end
  local allow_at = tat - tolerance
  if allow_at > now then
    if allow_at - now > max_reserve then return {0, allow_at - now, 0} end
    take(tat)
    return {0, allow_at - now, 1}
  end
  take(tat)
end

if concurrency > 0 then redis.call('ZADD', leases, now + lease, job) end
return {1, 0, 0}
