-- Shared by lanes_admit.lua and lanes_fetch.lua (queueing.scripts inserts it where a script
-- says `--!include lanes_admission.lua`): no script of its own. Its functions take the
-- including script's KEYS[1] as `p` (the lane shard's prefix, e.g. "{sy:q:action}") and
-- its ready list and bodies (KEYS[2], KEYS[3]); every key they touch is `p` .. a suffix.
-- now_ms(arg): the including script's ARGV clock, now (ms, optional: absent, '' or 0 reads
-- the server's TIME; tests pass one).
-- admit(p, queue, msgs, depth, max_moves, now): move due waiting jobs into their lanes,
-- then top the ready list up to `depth` messages, taking jobs round-robin across orgs (each
-- org up to its weight per turn). Moving a job is one atomic step — HSET into the message
-- hash, RPUSH its id — so nothing is ever in between and no job is moved twice.
-- Returns moved, still laned (a full queue with a backlog behind it is not an idle one).
local function now_ms(arg)
  local now = tonumber(arg or '') or 0
  if now <= 0 then  -- no clock passed: the server's
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  return now
end

local function relane_due(p, now, max_moves)
  local waiting, meta, due = p .. ':waiting', p .. ':meta', p .. ':due'
  local ready = redis.call('ZRANGEBYSCORE', waiting, '-inf', now, 'WITHSCORES', 'LIMIT', 0, max_moves)
  for i = 1, #ready, 2 do
    local id, when = ready[i], ready[i + 1]
    redis.call('ZREM', waiting, id)
    local m = redis.call('HGET', meta, id)
    if m then
      local sep = string.find(m, '|', 1, true)
      local org, score = string.sub(m, 1, sep - 1), tonumber(string.sub(m, sep + 1))
      redis.call('ZADD', p .. ':lane:' .. org, score, id)
      redis.call('ZADD', due, when, id)
      if redis.call('SADD', p .. ':active', org) == 1 then redis.call('RPUSH', p .. ':ring', org) end
    end
  end
end

local function admit(p, queue, msgs, depth, max_moves, now)
  relane_due(p, now, max_moves)
  local jobs, meta, due = p .. ':jobs', p .. ':meta', p .. ':due'
  local active, ring, weights = p .. ':active', p .. ':ring', p .. ':weights'
  local batch = depth - redis.call('LLEN', queue)
  local taken, visits = 0, 0
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
  return taken, redis.call('ZCARD', due)
end
