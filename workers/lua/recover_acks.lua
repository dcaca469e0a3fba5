-- Recovery of one lapsed worker: its fetched-but-unacknowledged jobs go back to their queues.
-- Atomic per worker: a worker that beat again since the caller looked is left alone, and no
-- job is requeued twice (the ack set is emptied in the same step).
-- KEYS[1]: Dramatiq's heartbeats zset (member worker id, score its last beat in ms)
-- KEYS[2 + 3k], KEYS[3 + 3k], KEYS[4 + 3k] for each queue k: the worker's ack set of that
--   queue (``__acks__.<worker>.<queue>``), the queue's id list, the queue's message hash.
-- ARGV[1]: the worker id; ARGV[2]: the cutoff (ms) — a last beat at or before it has lapsed.
-- Returns one count per queue: how many jobs went back (ids whose body is gone are dropped
-- from the ack set: they were acknowledged by a late ack already).
local last = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not last or tonumber(last) > tonumber(ARGV[2]) then return {} end
local counts = {}
for k = 2, #KEYS, 3 do
  local acks, queue, msgs = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local ids = redis.call('SMEMBERS', acks)
  local moved = 0
  for _, id in ipairs(ids) do
    if redis.call('HEXISTS', msgs, id) == 1 then
      redis.call('LPUSH', queue, id)  -- the head: these jobs waited longest
      moved = moved + 1
    end
  end
  redis.call('DEL', acks)
  counts[#counts + 1] = moved
end
redis.call('ZREM', KEYS[1], ARGV[1])
return counts
