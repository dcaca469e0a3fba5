-- Cancel one job: take its entry out of its org's lane or the waiting set, atomic with
-- admission (same hash tag), so a job is either taken here or admitted, never both.
-- KEYS[1]: the queue's lane prefix, e.g. "{sy:q:action}".
--   <p>:meta, <p>:jobs      HGET/HDEL the entry ("org|score", message data)
--   <p>:lane:<org>, <p>:due, <p>:waiting   ZREM the entry (an emptied lane is left to
--                           admission, which drops the org from the ring)
--   <p>:cancelled           ZADD job id -> time; trimmed to ARGV[3] ms
-- ARGV: entry id, job id, how long a cancel request is remembered (ms), now (ms; optional,
-- '' or absent: the server's clock).
-- Returns 1 when the entry was laned or waiting (removed: it never runs), else 0: it was
-- admitted (running) or is gone; the job id is recorded in <p>:cancelled, where
-- lanes_push.lua refuses to push it again (a cancelled running job is not retried).
local p = KEYS[1]
local entry, job = ARGV[1], ARGV[2]
local m = redis.call('HGET', p .. ':meta', entry)
if m then
  local org = string.sub(m, 1, string.find(m, '|', 1, true) - 1)
  redis.call('ZREM', p .. ':lane:' .. org, entry)
  redis.call('ZREM', p .. ':due', entry)
  redis.call('ZREM', p .. ':waiting', entry)
  redis.call('HDEL', p .. ':jobs', entry)
  redis.call('HDEL', p .. ':meta', entry)
  return 1
end
local now = tonumber(ARGV[4] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('ZADD', p .. ':cancelled', now, job)
redis.call('ZREMRANGEBYSCORE', p .. ':cancelled', '-inf', now - tonumber(ARGV[3]))
return 0
