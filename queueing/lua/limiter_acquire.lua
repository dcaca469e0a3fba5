-- May one request be sent on one rate-limit key now? Called at the moment of sending.
-- Keys, all under the rate key's hash tag KEYS[1] = "{<ns>:rl:<key>}":
--   <p>:gcra     hash: tat (GCRA theoretical arrival time) and offset, both ms. Slots live
--                on a virtual clock (real time minus offset): a pause the provider asks for
--                raises the offset, moving every reservation with it, so deferred jobs
--                resume at their pace and in their order instead of all at once.
--   <p>:cooldown real ms until which nobody sends (Retry-After, a spent budget)
--   <p>:log      sliding-window log of sends (real ms), "N per period" policies only. A
--                grant enters it scored at grant + send_deadline (in flight: it counts, and
--                a room it would free is at least a window away); limiter_stamp.lua moves it
--                to the moment the request was written, so the guard measures the window
--                from real sends, however late a request left after its grant.
--   <p>:learned  hash: limit, period, burst, aimd: the provider's stated or probed limit,
--                used instead of the catalog's while it lives (see limiter_feedback.lua)
--   <p>:day:<n>  requests counted today (daily quota)
--   <p>:quota    real ms until which the key sends nothing: the provider's daily
--                allocation is down to its reserve (limiter_feedback.lua). Once past, one
--                request is let through as a probe (and the stop moves one probe interval
--                on) until a probe's answer shows room again.
-- ARGV: limit, period_ms, burst (<= 1: "limit per period" with a window guard), margin_ms,
--       daily_quota (0 none), job_id, reserved_slot (virtual ms, 0 none), max_reserve_ms,
--       late_ms (how late a reserved job may still use its slot, window policies: at
--       least one window), batch,
--       send_deadline_ms (how long after its grant a request may still be unstamped),
--       quota_probe_ms (how long a stopped key waits between probes),
--       now (ms, optional: absent or 0 reads the server's clock; tests pass their own)
-- Pacing and the guard agree: a window policy is paced at one grant per
-- (period + margin) / limit, exactly what the guard over period + margin allows, so a job
-- arriving at its slot is never refused by the guard. When a send was late after all (its
-- stamp is later than its grant), the guard makes the due job whose window it still covers
-- wait, slot kept; should that leave it late_ms / 4 behind its slot, the key's virtual
-- clock catches up so that every reservation follows.
-- Returns always six items {verdict, delay_ms, slot, cells, entry, quota}: verdict 1 = send
-- now (cells slots taken; entry: the log member to stamp, "" for bucket policies), 0 = come
-- back in delay_ms holding slot (0: none held); quota 1 says why: a daily allocation is
-- spent (0 otherwise).
local p = KEYS[1]
local limit, period, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local margin, quota, job = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local slot, max_reserve, late = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local batch, send_deadline = tonumber(ARGV[10]), tonumber(ARGV[11])
local quota_probe = tonumber(ARGV[12])
local now = tonumber(ARGV[13] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local stopped = tonumber(redis.call('GET', p .. ':quota') or '0')
if stopped > now then return {0, stopped - now, 0, 0, '', 1} end
if stopped > 0 then  -- this request probes; the others wait for its answer
  redis.call('SET', p .. ':quota', string.format('%d', now + quota_probe), 'PX', 172800000)
  batch = 1
end

local learned = redis.call('HMGET', p .. ':learned', 'limit', 'period', 'burst', 'aimd')
local catalog_limit = limit
if learned[1] then
  limit = tonumber(learned[1])
  period = tonumber(learned[2]) or period
  if learned[3] then burst = tonumber(learned[3]) end
end
local guarded = burst <= 1
local window_limit, window, interval, tolerance = 0, 0, period / limit, 0
if guarded then
  window_limit = math.max(1, math.floor(limit))
  window = period + margin
  interval = window / window_limit
  batch = 1
  late = math.max(late, window)
else
  tolerance = interval * (burst - 1)
  late = interval
end
if quota > 0 then batch = 1 end

local gcra = p .. ':gcra'
local state = redis.call('HMGET', gcra, 'tat', 'offset')
local offset = tonumber(state[2] or '0')
local vnow = now - offset
local cooldown = tonumber(redis.call('GET', p .. ':cooldown') or '0')
local log = p .. ':log'

local function window_wait()  -- ms until the guard has room (0: room now), and whether
  -- the send that room waits for is still in flight (not yet stamped: it leaves now at the
  -- earliest)
  if not guarded then return 0, false end
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  if redis.call('ZCARD', log) < window_limit then return 0, false end
  local oldest = redis.call('ZRANGE', log, -window_limit, -window_limit, 'WITHSCORES')
  local sent = tonumber(oldest[2])
  return math.max(1, math.ceil(math.min(sent, now) + window - now)), sent > now
end

local function grant(cells)
  local entry = ''
  if guarded then
    entry = job .. ':' .. now
    redis.call('ZADD', log, now + send_deadline, entry)
    redis.call('PEXPIRE', log, math.ceil(window) + send_deadline + 1000)
  end
  if learned[4] == '1' then  -- probing back up after a 429: +1 per window's worth of grants
    local grown = limit + cells / limit
    if grown >= catalog_limit then
      redis.call('DEL', p .. ':learned')
    else
      redis.call('HSET', p .. ':learned', 'limit', string.format('%.4f', grown))
    end
  end
  return {1, 0, 0, cells, entry, 0}
end

if slot > 0 and vnow > slot + late then slot = 0 end  -- came back too late: slot lost
if slot > 0 then
  if slot > vnow then return {0, math.ceil(slot - vnow), slot, 0, '', 0} end
  if cooldown > now then return {0, cooldown - now, slot, 0, '', 0} end
  local wait, in_flight = window_wait()
  if wait > 0 then  -- keeps its place in line
    local behind = vnow + wait - slot
    if not in_flight and behind > late / 4 then
      -- Late sends hold the window: grants on this chain drift behind the pace by each
      -- one's grant-to-send time. Before the slots would go stale, the key's clock
      -- catches up, moving every reservation with it.
      redis.call('HSET', gcra, 'offset', string.format('%d', offset + behind))
    end
    return {0, wait, slot, 0, '', 0}
  end
  return grant(1)
end

local tat = tonumber(state[1] or '0')
if tat < vnow then tat = vnow end
local allow_at = tat - tolerance
if allow_at < cooldown - offset then allow_at = cooldown - offset end
if allow_at <= vnow then
  local wait = window_wait()
  if wait > 0 then allow_at = vnow + wait end
end
if allow_at - vnow > max_reserve then return {0, math.ceil(allow_at - vnow), 0, 0, '', 0} end

local day = math.floor(now / 86400000)
local day_key = p .. ':day:' .. day
if quota > 0 then
  if tonumber(redis.call('GET', day_key) or '0') >= quota then
    return {0, (day + 1) * 86400000 - now, 0, 0, '', 1}
  end
  redis.call('INCR', day_key)
  redis.call('PEXPIRE', day_key, 172800000)
end

local cells = 1
if batch > 1 and allow_at <= vnow then
  -- Every extra cell must conform now too: at most what the burst tolerance has left.
  cells = math.min(batch, math.floor((vnow + tolerance - tat) / interval) + 1)
end
local new_tat = math.max(tat, allow_at) + interval * cells
redis.call('HSET', gcra, 'tat', string.format('%.3f', new_tat))
redis.call('PEXPIRE', gcra, math.ceil(new_tat - vnow + tolerance) + 60000)
if allow_at > vnow then
  local reserved = math.ceil(allow_at)
  return {0, reserved - vnow, reserved, 0, '', 0}
end
return grant(cells)
