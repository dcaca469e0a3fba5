-- Renew concurrency leases a live worker still holds: each to now + lease (Redis clock).
-- Only existing leases (XX): a lease released, or already expired and swept, stays gone.
-- KEYS[1]: a rate key's lease zset (``{<ns>:rl:<key>}:leases``, member job id, score expiry)
-- ARGV[1]: lease length in ms; ARGV[2..]: job ids
local t = redis.call('TIME')
local until_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', until_ms, ARGV[i]) end
return #ARGV - 1
