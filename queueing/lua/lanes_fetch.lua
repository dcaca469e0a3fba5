-- A consumer's fetch from one lane shard, in one round trip: acknowledge the ids it finished
-- since its last fetch and stamp its beat (as Dramatiq's ack does), admit (as
-- lanes_admit.lua, see lanes_admission.lua), then take up to `fetch` ids into its ack set
-- (as Dramatiq's fetch does). Every key shares the shard's tag.
-- KEYS[1]: the shard's lane prefix ``{<ns>:q:<queue>}``; KEYS[2]: the ready list
-- ``<p>:ready``; KEYS[3]: the bodies ``<p>:msgs``; KEYS[4]: the consumer's ack set
-- ``<p>:acks:<worker>``; KEYS[5]: the shard's beats ``<p>:beats``.
-- ARGV: depth, max_moves, worker id, the worker's clock (ms, its beat), how many to fetch,
-- now (ms; '' for the server's clock), then the ids acknowledged (ARGV[7..]).
-- Returns {moved, still laned, {id1, id2...}, {data1, data2...}} (data false when the body
-- is missing).
--!include lanes_admission.lua
local p, queue, msgs, acks = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
redis.call('ZADD', KEYS[5], ARGV[4], ARGV[3])
for i = 7, #ARGV do
  if redis.call('SREM', acks, ARGV[i]) > 0 then redis.call('HDEL', msgs, ARGV[i]) end
end
local moved, backlog = admit(p, queue, msgs, tonumber(ARGV[1]), tonumber(ARGV[2]), now_ms(ARGV[6]))
local ids = {}
for _ = 1, tonumber(ARGV[5]) do
  local id = redis.call('LPOP', queue)
  if not id then break end
  redis.call('SADD', acks, id)
  ids[#ids + 1] = id
end
local data = {}
if #ids > 0 then data = redis.call('HMGET', msgs, unpack(ids)) end
return {moved, backlog, ids, data}
