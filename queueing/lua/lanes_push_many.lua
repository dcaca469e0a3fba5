-- lanes_push.lua for many jobs of ONE queue in one call (producers' enqueue_many): the same
-- keys, the same per-job outcome and statuses, in ARGV order; writes are grouped (one HSET,
-- one ZADD per key for the whole call) so Redis does a few commands per batch, not ~8 per job.
-- Keep the two scripts in step. At most 1,000 jobs per call (Lua's unpack limit is ~8,000).
-- Every key shares the queue's hash tag: KEYS[1] is the tag prefix, e.g. "{sy:q:action}".
--   <p>:seq                 INCRBY once for the call, FIFO order within a priority band
--   <p>:jobs, <p>:meta      HSET entry id -> message data, entry id -> "org|score"
--   <p>:weights             HSET org -> fair-admission weight
--   <p>:waiting             ZADD entry id at its due time (delay_ms > 0)
--   <p>:lane:<org>, <p>:due ZADD entry id by score / by the time it became due
--   <p>:active, <p>:ring    orgs with laned jobs, and the round-robin of them
--   <p>:idem:<org>:<claim>  GET, then SET EX: the job id owning an idempotency key ('' = none)
--   <p>:job:<job id>        HSET, EXPIRE: each new job's initial state (queueing/job_state.py), lanes_job_state.lua
--   <p>:jobs:<org>          ZADD, EXPIRE, ZREMRANGEBYSCORE once per org: the org's job index
-- ARGV[1]: a JSON array with per job [entry id, org, priority, delay_ms, weight, claim,
-- owner, claim lifetime in seconds, state] (claim '' when the job has no idempotency key;
-- state: lanes_push.lua's ARGV[11..17] as an array, or null: written only for jobs pushed,
-- not for claimed keys); ARGV[2..n+1]: each job's message data, in the same order (one
-- JSON string and n raw values: far fewer arguments for the client to pack than 9 per job);
-- ARGV[n+2]: now (ms, optional: absent, '' or 0 reads the server's TIME; tests pass one).
-- Returns {statuses, owner, ...}: one status character per job in ARGV order ('1' laned, '0'
-- waiting, '2' claimed before), then the owner of each '2' job's key in order (a short reply
-- to parse: no item per pushed job); a key repeated within the call answers '2' with the
-- owner that claimed it earlier in the call.
--!include lanes_job_state.lua
local p = KEYS[1]
local heads = cjson.decode(ARGV[1])
local count = #heads
local indexed, ttl = {}, nil
local last = redis.call('INCRBY', p .. ':seq', count)
local now = tonumber(ARGV[count + 2] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local statuses, owners, jobs, meta, waiting, due, claims = {}, {}, {}, {}, {}, {}, {}
local orgs, weights, lanes, claimed = {}, {}, {}, {}
for i = 0, count - 1 do
  local h = heads[i + 1]
  local id, data, org = h[1], ARGV[i + 2], h[2]
  local priority, delay = h[3], h[4]
  local claim, owner = h[6], false
  if claim ~= '' then
    claim = p .. ':idem:' .. org .. ':' .. claim
    owner = claimed[claim] or redis.call('GET', claim)
  else
    claim = nil
  end
  if owner then
    statuses[i + 1] = '2'
    owners[#owners + 1] = owner
  else
    local score = (9 - priority) * 1099511627776 + (last - count + i + 1)
    jobs[#jobs + 1], jobs[#jobs + 2] = id, data
    meta[#meta + 1], meta[#meta + 2] = id, org .. '|' .. score
    if weights[org] == nil then
      orgs[#orgs + 1] = org
    end
    weights[org] = h[5]
    local status = 1
    if delay > 0 then
      waiting[#waiting + 1], waiting[#waiting + 2] = now + delay, id
      status = 0
    else
      local lane = lanes[org] or {}
      lanes[org] = lane
      lane[#lane + 1], lane[#lane + 2] = score, id
      due[#due + 1], due[#due + 2] = now, id
    end
    if claim then
      claimed[claim] = h[7]
      claims[#claims + 1] = {claim, h[7], h[8]}
    end
    local s = h[9]
    if type(s) == 'table' then
      local job_id
      ttl, job_id = new_job_state(p, org, id, s, now, delay)
      local members = indexed[org]
      if members == nil then
        members = {}
        indexed[org] = members
      end
      members[#members + 1], members[#members + 2] = now, job_id
    end
    statuses[i + 1] = status
  end
end
for org, members in pairs(indexed) do
  index_jobs(p, org, members, ttl, now)
end
if #jobs > 0 then
  redis.call('HSET', p .. ':jobs', unpack(jobs))
  redis.call('HSET', p .. ':meta', unpack(meta))
end
if #waiting > 0 then
  redis.call('ZADD', p .. ':waiting', unpack(waiting))
end
if #due > 0 then
  redis.call('ZADD', p .. ':due', unpack(due))
end
for _, org in ipairs(orgs) do
  redis.call('HSET', p .. ':weights', org, weights[org])
  if lanes[org] then
    redis.call('ZADD', p .. ':lane:' .. org, unpack(lanes[org]))
    if redis.call('SADD', p .. ':active', org) == 1 then
      redis.call('RPUSH', p .. ':ring', org)
    end
  end
end
-- The claims are written last: should a write above fail (out of memory), no key is left
-- claimed by a job that is not there.
for _, c in ipairs(claims) do
  redis.call('SET', c[1], c[2], 'EX', c[3])
end
return {table.concat(statuses), unpack(owners)}
