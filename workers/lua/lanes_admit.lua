-- Admission: move due waiting jobs into their lanes, then top the queue's ready list up to
-- `depth` messages, taking jobs round-robin across orgs (each org up to its weight per
-- turn). Moving a job is one atomic step — HSET into the message hash, RPUSH its id — so
-- nothing is ever in between and no job is moved twice. Every key shares the queue's tag.
-- Returns {moved, still laned}: a full queue with a backlog behind it is not an idle one.
-- KEYS[1]: the queue's lane prefix ``{<ns>:q:<queue>}`` (lane keys are KEYS[1] .. suffix);
-- KEYS[2]: the ready list ``<p>:ready``; KEYS[3]: the message bodies ``<p>:msgs``.
-- ARGV: depth, max_moves (bound on waiting jobs relaned per call)
--
-- Fetch mode (a consumer's fetch, in one round trip): KEYS[4] the consumer's ack set
-- ``<p>:acks:<worker>``, KEYS[5] the queue's beats ``<p>:beats``; ARGV[3] worker id,
-- ARGV[4] its clock (ms), ARGV[5] how many to fetch, ARGV[6..] ids the consumer finished
-- since its last fetch. First those are acknowledged and the beat stamped (as Dramatiq's
-- ack does), then admission runs, then up to ARGV[5] ids are taken into the ack set (as
-- Dramatiq's fetch does). Returns
-- {moved, still laned, id1, data1, id2, data2...} (data false when the body is missing).
local p, queue, msgs = KEYS[1], KEYS[2], KEYS[3]
local depth, max_moves = tonumber(ARGV[1]), tonumber(ARGV[2])
local acks = KEYS[4]
if acks then
  redis.call('ZADD', KEYS[5], ARGV[4], ARGV[3])
  for i = 6, #ARGV do
    if redis.call('SREM', acks, ARGV[i]) > 0 then redis.call('HDEL', msgs, ARGV[i]) end
  end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local jobs, meta, due = p .. ':jobs', p .. ':meta', p .. ':due'
local active, ring, weights = p .. ':active', p .. ':ring', p .. ':weights'

local ready = redis.call('ZRANGEBYSCORE', p .. ':waiting', '-inf', now, 'WITHSCORES', 'LIMIT', 0, max_moves)
for i = 1, #ready, 2 do
  local id, when = ready[i], ready[i + 1]
  redis.call('ZREM', p .. ':waiting', id)
  local m = redis.call('HGET', meta, id)
  if m then
    local sep = string.find(m, '|', 1, true)
    local org, score = string.sub(m, 1, sep - 1), tonumber(string.sub(m, sep + 1))
    redis.call('ZADD', p .. ':lane:' .. org, score, id)
    redis.call('ZADD', due, when, id)
    if redis.call('SADD', active, org) == 1 then redis.call('RPUSH', ring, org) end
  end
end

local batch = depth - redis.call('LLEN', queue)
local taken = 0
local visits = 0
local limit = batch + redis.call('LLEN', ring)
while taken < batch and visits < limit do
  local org = redis.call('LPOP', ring)
  if not org then break end
  visits = visits + 1
  local lane = p .. ':lane:' .. org
  local weight = tonumber(redis.call('HGET', weights, org) or '1')
  local got = redis.call('ZPOPMIN', lane, math.min(weight, batch - taken))
  for i = 1, #got, 2 do
    local id = got[i]
    local data = redis.call('HGET', jobs, id)
    if data then
      redis.call('HSET', msgs, id, data)
      redis.call('RPUSH', queue, id)
      taken = taken + 1
    end
    redis.call('HDEL', jobs, id)
    redis.call('HDEL', meta, id)
    redis.call('ZREM', due, id)
  end
  if redis.call('ZCARD', lane) > 0 then
    redis.call('RPUSH', ring, org)
  else
    redis.call('SREM', active, org)
  end
end
local result = {taken, redis.call('ZCARD', due)}
if acks then
  local ids = {}
  for _ = 1, tonumber(ARGV[5]) do
    local id = redis.call('LPOP', queue)
    if not id then break end
    redis.call('SADD', acks, id)
    ids[#ids + 1] = id
  end
  if #ids > 0 then
    local data = redis.call('HMGET', msgs, unpack(ids))
    for i = 1, #ids do
      result[2 * i + 1] = ids[i]
      result[2 * i + 2] = data[i]
    end
  end
end
return result
