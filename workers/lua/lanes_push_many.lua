-- lanes_push.lua for many jobs of ONE queue in one call (producers' enqueue_many): the same
-- keys, the same per-job steps and statuses, in ARGV order. Keep the two scripts in step.
-- Every key shares the queue's hash tag: KEYS[1] is the tag prefix, e.g. "{sy:q:action}".
--   <p>:seq                 INCRBY once for the batch, FIFO order within a priority band
--   <p>:jobs, <p>:meta      HSET entry id -> message data, entry id -> "org|score"
--   <p>:weights             HSET org -> fair-admission weight
--   <p>:waiting             ZADD entry id at its due time (delay_ms > 0)
--   <p>:lane:<org>, <p>:due ZADD entry id by score / by the time it became due
--   <p>:active, <p>:ring    orgs with laned jobs, and the round-robin of them
--   <p>:idem:<org>:<claim>  GET, then SET EX: the job id owning an idempotency key ('' = none)
-- ARGV: 9 values per job: entry id, message data, org, priority, delay_ms, weight, claim,
-- owner, claim lifetime in seconds (claim '' when the job has no idempotency key).
-- Returns per job: status (1 laned, 0 waiting, 2 claimed before), owner ('' unless 2).
local p = KEYS[1]
local count = #ARGV / 9
local last = redis.call('INCRBY', p .. ':seq', count)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 0, count - 1 do
  local b = i * 9
  local id, data, org = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3]
  local priority, delay = tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5])
  local claim = ARGV[b + 7]
  local owner = false
  if claim ~= '' then
    claim = p .. ':idem:' .. org .. ':' .. claim
    owner = redis.call('GET', claim)
  else
    claim = nil
  end
  if owner then
    out[#out + 1] = 2
    out[#out + 1] = owner
  else
    local score = (9 - priority) * 1099511627776 + (last - count + i + 1)
    redis.call('HSET', p .. ':jobs', id, data)
    redis.call('HSET', p .. ':meta', id, org .. '|' .. score)
    redis.call('HSET', p .. ':weights', org, ARGV[b + 6])
    local status = 1
    if delay > 0 then
      redis.call('ZADD', p .. ':waiting', now + delay, id)
      status = 0
    else
      redis.call('ZADD', p .. ':lane:' .. org, score, id)
      redis.call('ZADD', p .. ':due', now, id)
      if redis.call('SADD', p .. ':active', org) == 1 then
        redis.call('RPUSH', p .. ':ring', org)
      end
    end
    if claim then
      redis.call('SET', claim, ARGV[b + 8], 'EX', tonumber(ARGV[b + 9]))
    end
    out[#out + 1] = status
    out[#out + 1] = ''
  end
end
return out
