-- A live consumer puts back the ids in its ack set that it does not hold: a fetch ran on
-- Redis but its reply never arrived (a dropped connection, a master killed before answering),
-- or fetched ids could not be handed back. Its beat stays fresh, so the recovery sweep would
-- never return them (see workers/fetch_ledger.py). Under the queue shard's tag.
-- KEYS[1]: the consumer's ack set; KEYS[2]: the ready list; KEYS[3]: the bodies.
-- ARGV[1..]: the ids the consumer holds (fetched, not yet settled): left alone.
-- Returns how many went back to the ready list (at its head: they waited longest); a stray
-- whose body is gone was acknowledged already and only leaves the ack set.
local held = {}
for i = 1, #ARGV do held[ARGV[i]] = true end
local moved = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not held[id] then
    redis.call('SREM', KEYS[1], id)
    if redis.call('HEXISTS', KEYS[3], id) == 1 then
      redis.call('LPUSH', KEYS[2], id)
      moved = moved + 1
    end
  end
end
return moved
