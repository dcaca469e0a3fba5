-- What a provider's answer tells the limiter of one rate key (keys as in limiter_acquire.lua).
-- KEYS[1]: tag prefix. ARGV: cool_ms (0: no pause), shift (1: the pause moves every
--   reservation with it), stated_limit (0: none stated), stated_period_ms, stated_burst
--   (0: none), decrease (1: a 429 without a stated limit, cut the rate), catalog_limit,
--   catalog_period_ms, catalog_burst, factor (multiplicative decrease), ttl_ms,
--   daily_remaining (-1: not stated), daily_reserve (stop at or below it), quota_probe_ms,
--   now (ms, optional: absent or 0 reads the server's clock; tests pass their own)
-- A daily allocation down to its reserve stops the key (<p>:quota, see limiter_acquire.lua)
-- for one probe interval; an answer showing more than the reserve lifts the stop.
-- A stated limit replaces the learned one; a cut happens at most once per period (one
-- overshoot answers with several 429s) and marks the limit for probing back up (aimd = 1:
-- limiter_acquire.lua adds one per window's worth of grants, up to the catalog's limit).
-- Returns {ms until the key's pause ends (0: none), learned limit x 1000 (0: the catalog's)}.
local p = KEYS[1]
local cool, shift = tonumber(ARGV[1]), tonumber(ARGV[2])
local s_limit, s_period, s_burst = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local decrease = tonumber(ARGV[6])
local c_limit, c_period, c_burst = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local factor, ttl = tonumber(ARGV[10]), tonumber(ARGV[11])
local daily_left, reserve, probe = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local now = tonumber(ARGV[15] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local learned = p .. ':learned'
local cur = redis.call('HMGET', learned, 'limit', 'period', 'burst', 'aimd', 'cut_at')
local limit = tonumber(cur[1] or '0')
if s_limit > 0 then
  if limit ~= s_limit or tonumber(cur[2]) ~= s_period or cur[4] ~= '0'
      or tonumber(cur[3] or '0') ~= s_burst then
    redis.call('DEL', learned)
    redis.call('HSET', learned, 'limit', s_limit, 'period', s_period, 'aimd', '0')
    if s_burst > 0 then redis.call('HSET', learned, 'burst', s_burst) end
  end
  redis.call('PEXPIRE', learned, ttl)
  limit = s_limit
elseif decrease == 1 then
  local per = tonumber(cur[2] or c_period)
  if now - tonumber(cur[5] or '0') >= per then
    limit = math.max(1, (cur[1] and limit or c_limit) * factor)
    redis.call('HSET', learned, 'limit', string.format('%.4f', limit), 'period', per,
      'aimd', '1', 'cut_at', now)
    if not cur[3] and c_burst > 1 then redis.call('HSET', learned, 'burst', c_burst) end
    redis.call('PEXPIRE', learned, ttl)
  end
end

if daily_left >= 0 and daily_left <= reserve then
  redis.call('SET', p .. ':quota', string.format('%d', now + probe), 'PX', 172800000)
elseif daily_left > reserve then
  redis.call('DEL', p .. ':quota')
end

local cooldown = tonumber(redis.call('GET', p .. ':cooldown') or '0')
local till = now + cool
if cool > 0 and till > cooldown then
  redis.call('SET', p .. ':cooldown', string.format('%d', till), 'PX', cool + 1000)
  if shift == 1 then
    local gcra = p .. ':gcra'
    local state = redis.call('HMGET', gcra, 'tat', 'offset')
    local offset = tonumber(state[2] or '0') + till - math.max(now, cooldown)
    local tat = math.max(tonumber(state[1] or '0'), till - offset)
    redis.call('HSET', gcra, 'tat', string.format('%.3f', tat), 'offset', offset)
    redis.call('PEXPIRE', gcra, math.ceil(tat - (now - offset)) + 60000)
  end
  cooldown = till
end
return {math.max(cooldown - now, 0), math.floor(limit * 1000)}
