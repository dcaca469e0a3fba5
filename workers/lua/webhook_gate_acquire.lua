-- Take one of a webhook endpoint's concurrency slots for a job (a lease that ends by itself,
-- so a worker killed mid-delivery frees its slot when the lease runs out).
-- KEYS[1]: the endpoint's slot zset (``<ns>:webhook:slots:<endpoint>``, member job id,
--   score lease expiry in ms); the only key, so the script is cluster-safe by construction.
-- ARGV[1]: now (ms); ARGV[2]: lease expiry (ms); ARGV[3]: slot limit; ARGV[4]: job id.
-- Returns 1 when the job holds a slot (taken now or already held), 0 when all are taken.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  return 1
end
return 0
