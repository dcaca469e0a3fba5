-- Put one job into its org's lane (or into the waiting set when it is not due yet).
-- Every key shares the queue's hash tag: KEYS[1] is the tag prefix, e.g. "{sy:q:action}".
-- ARGV: job id, message data, org, priority (0-9), delay_ms (0 = due now), org weight
local p = KEYS[1]
local id, data, org = ARGV[1], ARGV[2], ARGV[3]
local priority, delay = tonumber(ARGV[4]), tonumber(ARGV[5])
local seq = redis.call('INCR', p .. ':seq')
-- Higher priority first, then FIFO: 2^40 sequence numbers per priority band.
local score = (9 - priority) * 1099511627776 + seq
-- Each push is its own entry: a job re-pushed (retry, deferral) while the pump has not yet
-- confirmed its previous admission must not be forgotten by that confirmation.
id = id .. ':' .. seq
redis.call('HSET', p .. ':jobs', id, data)
redis.call('HSET', p .. ':meta', id, org .. '|' .. score)
redis.call('HSET', p .. ':weights', org, ARGV[6])
if delay > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('ZADD', p .. ':waiting', now + delay, id)
  return {0, id}
end
redis.call('ZADD', p .. ':lane:' .. org, score, id)
if redis.call('SADD', p .. ':active', org) == 1 then
  redis.call('RPUSH', p .. ':ring', org)
end
return {1, id}
