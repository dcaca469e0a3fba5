-- Recovery of one lapsed worker on one queue: its fetched-but-unacknowledged jobs go back.
-- Atomic: a worker that beat again since the caller looked is left alone, and no job is
-- requeued twice (the ack set is emptied in the same step).
-- All keys share the queue's tag ``{<ns>:q:<queue>}``:
-- KEYS[1]: the queue's beats zset (member worker id, score its last beat in ms)
-- KEYS[2]: the worker's ack set of the queue; KEYS[3]: the ready list; KEYS[4]: the bodies
-- ARGV[1]: the worker id; ARGV[2]: the cutoff (ms) — a last beat at or before it has lapsed.
-- Returns always {lapsed, n}: {0, 0} when the worker is alive (or unknown), else {1, n}: how
-- many jobs went back (ids whose body is gone are dropped from the ack set: they were
-- acknowledged by a late ack already).
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not last or tonumber(last) > tonumber(ARGV[2]) then return {0, 0} end
local moved = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if redis.call('HEXISTS', KEYS[4], id) == 1 then
    redis.call('LPUSH', KEYS[3], id)  -- the head: these jobs waited longest
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return {1, moved}
