-- Put one job into its org's lane (or into the waiting set when it is not due yet), claiming
-- its idempotency key in the same atomic step when it has one: a producer that dies before
-- this script runs leaves nothing behind, one that dies after it leaves a claimed, laned job.
-- Every key shares the queue's hash tag: KEYS[1] is the tag prefix, e.g. "{sy:q:action}".
--   <p>:seq                 INCR, FIFO order within a priority band
--   <p>:jobs, <p>:meta      HSET entry id -> message data, entry id -> "org|score"
--   <p>:weights             HSET org -> fair-admission weight
--   <p>:waiting             ZADD entry id at its due time (delay_ms > 0)
--   <p>:lane:<org>, <p>:due ZADD entry id by score / by the time it became due
--   <p>:active, <p>:ring    orgs with laned jobs, and the round-robin of them
--   <p>:idem:<org>:<claim>  GET, then SET EX: the job id owning an idempotency key (optional)
--   <p>:job:<job id>        HSET, EXPIRE: the job's initial state (queueing/job_state.py), lanes_job_state.lua
--   <p>:jobs:<org>          ZADD, EXPIRE, ZREMRANGEBYSCORE: the org's job index, trimmed
-- ARGV: entry id (unique per push: it becomes the Dramatiq message's Redis id), message data,
-- org, priority (0-9), delay_ms (0 = due now), org weight, and optionally: claim (the hashed
-- idempotency key), owner (the job id), claim lifetime in seconds ('' when unclaimed), and
-- the job id (ARGV[10], optional) to check against <p>:cancelled (see lanes_cancel.lua),
-- and optionally the job's initial state (a new job: enqueue), ARGV[11..17]: retention in
-- seconds, job id, kind, provider, action/model field and value ('' none), notify ('1'/''),
-- and ARGV[18], now (ms, optional: absent, '' or 0 reads the server's TIME; tests pass one).
-- Returns {1, ''} laned, {0, ''} waiting, or {2, owner} when the key is already claimed
-- (nothing pushed; owner may be this very job when a client library re-sent the script),
-- or {3, ''} when the job's cancel was asked (nothing pushed: a retry of it ends it).
--!include lanes_job_state.lua
local p = KEYS[1]
local id, data, org = ARGV[1], ARGV[2], ARGV[3]
local job = ARGV[10]
if job and job ~= '' and redis.call('ZSCORE', p .. ':cancelled', job) then
  return {3, ''}
end
local priority, delay = tonumber(ARGV[4]), tonumber(ARGV[5])
local claim = ARGV[7]
if claim and claim ~= '' then
  claim = p .. ':idem:' .. org .. ':' .. claim
  local owner = redis.call('GET', claim)
  if owner then
    return {2, owner}
  end
else
  claim = nil
end
local seq = redis.call('INCR', p .. ':seq')
-- Higher priority first, then FIFO: 2^40 sequence numbers per priority band.
local score = (9 - priority) * 1099511627776 + seq
local now = tonumber(ARGV[18] or '') or 0
if now <= 0 then  -- no clock passed: the server's
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
redis.call('HSET', p .. ':jobs', id, data)
redis.call('HSET', p .. ':meta', id, org .. '|' .. score)
redis.call('HSET', p .. ':weights', org, ARGV[6])
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
if ARGV[11] and ARGV[11] ~= '' then
  local state = {ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16], ARGV[17]}
  local ttl, job_id = new_job_state(p, org, id, state, now, delay)
  index_jobs(p, org, {now, job_id}, ttl, now)
end
-- The claim is written last: should a write above fail (out of memory), no key is left
-- claimed by a job that is not there.
if claim then
  redis.call('SET', claim, ARGV[8], 'EX', tonumber(ARGV[9]))
end
return {status, ''}
