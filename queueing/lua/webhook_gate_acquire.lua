-- Take one of a webhook endpoint's concurrency slots for a job (a lease that ends by itself,
-- so a worker killed mid-delivery frees its slot when the lease runs out).
-- KEYS[1]: the endpoint's slot zset (``<ns>:webhook:slots:<endpoint>``, member job id,
--   score lease expiry in ms); the only key, so the script is cluster-safe by construction.
-- ARGV[1]: now (ms; 0 reads the server's clock, one clock for every worker; tests pass
--   their own); ARGV[2]: lease length (ms); ARGV[3]: slot limit; ARGV[4]: job id.
-- Returns 1 when the job holds a slot (taken now or already held), 0 when all are taken.
local now = tonumber(ARGV[1] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local expiry = now + tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], expiry, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])  -- relative: right on any clock passed in
  return 1
end
return 0
