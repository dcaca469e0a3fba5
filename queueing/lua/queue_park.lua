-- Park a fetched message that is not a job in the queue's dead set (Dramatiq's ``nack``),
-- where the scheduler's dead-set import turns it into a dead job. Keys share the queue's tag
-- ``{<ns>:q:<queue>}``.
-- KEYS[1]: the consumer's ack set; KEYS[2]: the queue's bodies; KEYS[3]: the dead set (zset,
-- score: when parked); KEYS[4]: the dead bodies.
-- ARGV[1]: message id; ARGV[2]: now (ms).
-- Returns 1 when parked, 0 when the id was not held by this consumer or has no body.
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local body = redis.call('HGET', KEYS[2], ARGV[1])
if not body then return 0 end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[4], ARGV[1], body)
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
