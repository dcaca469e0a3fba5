-- The provider said "wait": nobody runs on this key until now + delay_ms (never shortened).
-- KEYS[1]: tag prefix. ARGV: delay_ms
local p = KEYS[1]
local delay = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = tonumber(redis.call('GET', p .. ':cooldown') or '0')
if now + delay > current then
  redis.call('SET', p .. ':cooldown', string.format('%d', now + delay), 'PX', delay + 1000)
end
return now + delay
