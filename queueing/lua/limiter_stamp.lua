-- A granted request on a "N per period" key was written to the wire: its entry in the
-- sliding-window log (keys as in limiter_acquire.lua) takes the moment it was sent, so the
-- window guard counts from real sends, not grants. KEYS[1]: tag prefix. ARGV[1]: entry (the
-- log member the grant returned); ARGV[2]: now (ms, optional: absent or 0 reads the
-- server's clock). An entry gone (expired) is left gone. Returns the ms from grant to stamp
-- (-1: no entry).
local log = KEYS[1] .. ':log'
local now = tonumber(ARGV[2] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
if not redis.call('ZSCORE', log, ARGV[1]) then return -1 end
redis.call('ZADD', log, 'XX', now, ARGV[1])
local granted = tonumber(string.match(ARGV[1], ':(%d+)$') or now)
return now - granted
