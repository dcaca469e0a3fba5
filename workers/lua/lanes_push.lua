-- Put one job into its org's lane (or into the waiting set when it is not due yet).
-- Lane keys share the queue's hash tag: KEYS[1] is the tag prefix, e.g. "{sy:q:action}".
-- ARGV: entry id (unique per push: it becomes the Dramatiq message's Redis id), message data,
-- org, priority (0-9), delay_ms (0 = due now), org weight
local p = KEYS[1]
local id, data, org = ARGV[1], ARGV[2], ARGV[3]
local priority, delay = tonumber(ARGV[4]), tonumber(ARGV[5])
local seq = redis.call('INCR', p .. ':seq')
-- Higher priority first, then FIFO: 2^40 sequence numbers per priority band.
local score = (9 - priority) * 1099511627776 + seq
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', p .. ':jobs', id, data)
redis.call('HSET', p .. ':meta', id, org .. '|' .. score)
redis.call('HSET', p .. ':weights', org, ARGV[6])
if delay > 0 then
  redis.call('ZADD', p .. ':waiting', now + delay, id)
  return 0
end
redis.call('ZADD', p .. ':lane:' .. org, score, id)
redis.call('ZADD', p .. ':due', now, id)
if redis.call('SADD', p .. ':active', org) == 1 then
  redis.call('RPUSH', p .. ':ring', org)
end
return 1
