-- A concurrency lease for one job on one rate-limit key (policies with a concurrency cap).
-- Keys: <p>:leases  sorted set of job ids scored by lease expiry (real ms), KEYS[1] = <p>.
-- ARGV: concurrency, job_id, lease_ms, now (ms, optional: absent or 0 reads the server's
--   clock; tests pass their own)
-- Returns {1, 0} when the job holds a lease, {0, delay_ms} when the cap is reached: leases
-- are released when jobs finish, so look again soon, at the latest at the first expiry.
local p = KEYS[1]
local concurrency, job, lease = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local now = tonumber(ARGV[4] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local leases = p .. ':leases'
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
if not redis.call('ZSCORE', leases, job) and redis.call('ZCARD', leases) >= concurrency then
  local first = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  return {0, math.max(1, math.min(250, tonumber(first[2]) - now))}
end
redis.call('ZADD', leases, now + lease, job)
redis.call('PEXPIRE', leases, lease + 1000)
return {1, 0}
