-- Hand fetched messages back to their queue (a consumer shutting down with messages no worker
-- thread took, or a job whose rescheduling failed): as Dramatiq's ``requeue``, under the
-- queue's tag ``{<ns>:q:<queue>}``.
-- KEYS[1]: the consumer's ack set; KEYS[2]: the queue's ready list; KEYS[3]: its bodies.
-- ARGV[1..]: message ids. An id not in the ack set (acknowledged, or recovered already) or
-- whose body is gone is skipped, so no message is queued twice.
-- Returns how many went back.
local moved = 0
for i = 1, #ARGV do
  if redis.call('SREM', KEYS[1], ARGV[i]) > 0 and redis.call('HEXISTS', KEYS[3], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    moved = moved + 1
  end
end
return moved
