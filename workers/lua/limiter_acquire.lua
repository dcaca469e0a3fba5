-- Admission of one job against one rate-limit key (all keys under the key's hash tag).
-- Order: cooldown (the provider said "wait"), daily quota, concurrency cap, GCRA slot,
-- then, for "N per period" policies, a sliding-window log as the final guard.
-- GCRA with reservation: when no slot is free now, the job *reserves* the next slot and is
-- told to come back exactly then (once) instead of polling. A job that comes back more than
-- late_ms after its slot lost it and competes again: without a window guard (bucket
-- policies) late_ms is one interval, since late jobs would bunch with on-time ones.
-- KEYS[1]: tag prefix "{<ns>:rl:<key>}"
-- ARGV: interval_ms, tolerance_ms, daily_quota (0 none), concurrency (0 none), job_id,
--       lease_ms, reserved_slot_ms (0 none), max_reserve_ms, window_ms, window_limit
--       (window_limit 0: no window guard), late_ms (how late a reserved job may still run),
--       batch (cells wanted at once when a slot is free now; the caller keeps the extra
--       ones for a moment — only for burst policies without quota, cap or window guard)
-- Returns {verdict, delay_ms, reserved_slot_ms, cells}: verdict 1 = run now, 0 = defer;
-- cells = how many slots were taken (1, or up to batch).
local p = KEYS[1]
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local quota, concurrency = tonumber(ARGV[3]), tonumber(ARGV[4])
local job, lease, slot = ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local max_reserve = tonumber(ARGV[8])
local window, window_limit = tonumber(ARGV[9]), tonumber(ARGV[10])
local late = tonumber(ARGV[11])
local batch = tonumber(ARGV[12] or '1')
if quota > 0 or concurrency > 0 or window_limit > 0 then batch = 1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local cooldown = tonumber(redis.call('GET', p .. ':cooldown') or '0')
if cooldown > now then return {0, cooldown - now, slot} end

if slot > 0 and now > slot + late then slot = 0 end  -- came back too late: slot lost

local day = math.floor(now / 86400000)
local day_key = p .. ':day:' .. day
if quota > 0 and slot == 0 then
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
    return {0, math.max(1, math.min(250, tonumber(first[2]) - now)), slot}
  end
end

if slot > now then return {0, slot - now, slot} end  -- early: wait for the slot

local log = p .. ':log'
local function window_full()
  if window_limit == 0 then return false end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  return redis.call('ZCARD', log) >= window_limit
end

if slot == 0 then
  local tat = tonumber(redis.call('GET', p .. ':tat') or '0')
  if tat < now then tat = now end
  local allow_at = tat - tolerance
  if allow_at > now and allow_at - now > max_reserve then return {0, allow_at - now, 0} end
  if allow_at <= now and window_full() then
    local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
    return {0, math.max(1, tonumber(oldest[2]) + window - now), 0}
  end
  local cells = 1
  if batch > 1 and allow_at <= now then
    -- Every extra cell must conform now too: at most what the burst tolerance has left.
    cells = math.min(batch, math.floor((now + tolerance - tat) / interval) + 1)
  end
  redis.call('SET', p .. ':tat', string.format('%d', tat + interval * cells),
    'PX', math.ceil(tat + interval * cells - now + tolerance + 1000))
  if cells > 1 then return {1, 0, 0, cells} end
  if quota > 0 then
    redis.call('INCR', day_key)
    redis.call('PEXPIRE', day_key, 172800000)
  end
  if allow_at > now then return {0, allow_at - now, allow_at} end  -- reserved
elseif window_full() then
  local oldest = redis.call('ZRANGE', log, 0, 0, 'WITHSCORES')
  return {0, math.max(1, tonumber(oldest[2]) + window - now), 0}
end

if window_limit > 0 then
  redis.call('ZADD', log, now, job .. ':' .. now)
  redis.call('PEXPIRE', log, window + 1000)
end
if concurrency > 0 then redis.call('ZADD', leases, now + lease, job) end
return {1, 0, 0, 1}
