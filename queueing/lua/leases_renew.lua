-- Renew concurrency leases a live worker still holds: each to now + lease.
-- Only existing leases (XX): a lease released, or already expired and swept, stays gone.
-- KEYS[1]: a rate key's lease zset (``{<ns>:rl:<key>}:leases``, member job id, score expiry)
-- ARGV[1]: lease length in ms; ARGV[2]: now (ms; 0 reads the server's clock); ARGV[3..]: job
-- ids. Returns how many ids were given.
local now = tonumber(ARGV[2] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local until_ms = now + tonumber(ARGV[1])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], 'XX', until_ms, ARGV[i]) end
return #ARGV - 2
