-- Shared by lanes_push.lua and lanes_push_many.lua (queueing.scripts inserts it where a
-- script says `--!include lanes_job_state.lua`): no script of its own. Every key it touches
-- is `p` (the including script's KEYS[1], the lane shard's prefix) .. a suffix.
-- new_job_state(p, org, entry, s, now, delay): HSET and EXPIRE <p>:job:<job id>, a new
-- job's initial state: queued, or waiting (not_before) until now + delay when delay > 0.
-- `s` is the state the producer sent (queueing/job_state.py JobStateStore.initial):
-- {retention in seconds, job id, kind, provider, action/model field and value ('' none),
-- notify ('1' or '')}. Returns the retention (seconds) and the job id, for the org index.
-- index_jobs(p, org, members, ttl, now): ZADD `members` (enqueue time, job id, ...) to
-- <p>:jobs:<org>, EXPIRE it after `ttl` seconds and drop the entries older than that.
local function new_job_state(p, org, entry, s, now, delay)
  local ttl, job_id = tonumber(s[1]), s[2]
  local key = p .. ':job:' .. job_id
  local fields = {'org', org, 'kind', s[3], 'provider', s[4], 'entry', entry,
    'state', 'queued', 'enqueued_at', now, 'updated_at', now}
  if delay > 0 then
    fields[10] = 'waiting'
    fields[15], fields[16] = 'wait_reason', 'not_before'
    fields[17], fields[18] = 'wait_until', now + delay
  end
  if s[5] ~= '' then
    fields[#fields + 1], fields[#fields + 2] = s[5], s[6]
  end
  if s[7] ~= '' then
    fields[#fields + 1], fields[#fields + 2] = 'notify', '1'
  end
  redis.call('HSET', key, unpack(fields))
  redis.call('EXPIRE', key, ttl)
  return ttl, job_id
end

local function index_jobs(p, org, members, ttl, now)
  local index = p .. ':jobs:' .. org
  redis.call('ZADD', index, unpack(members))
  redis.call('EXPIRE', index, ttl)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl * 1000)
end
