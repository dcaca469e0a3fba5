-- Take a parked delivery of an ordered webhook endpoint: move it from parked to taken, so
-- exactly one waker gets it.
-- KEYS[1]: the endpoint's parked hash, KEYS[2]: its taken hash — both under the endpoint's
--   tag ``{<ns>:webhook:<endpoint>}``.
-- ARGV[1]: delivery id; ARGV[2]: owner job id.
-- Returns the delivery's job id when this owner took it, else false.
local job = redis.call('HGET', KEYS[1], ARGV[1])
if job then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. '|' .. job)
end
return job
