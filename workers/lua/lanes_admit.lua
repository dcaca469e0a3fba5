-- Admission: recover expired transit entries, move due waiting jobs into their lanes, then
-- take up to `batch` jobs round-robin across orgs (each org up to its weight per turn) into
-- the transit set, leased for `lease_ms`. Returns a flat list: id1, data1, id2, data2...
-- KEYS[1]: the queue's tag prefix. ARGV: batch, lease_ms, max_moves
local p = KEYS[1]
local batch, lease, max_moves = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local jobs, meta, transit = p .. ':jobs', p .. ':meta', p .. ':transit'
local active, ring, weights = p .. ':active', p .. ':ring', p .. ':weights'

local function relane(id)
  local m = redis.call('HGET', meta, id)
  if not m then return end
  local sep = string.find(m, '|', 1, true)
  local org, score = string.sub(m, 1, sep - 1), tonumber(string.sub(m, sep + 1))
  redis.call('ZADD', p .. ':lane:' .. org, score, id)
  if redis.call('SADD', active, org) == 1 then redis.call('RPUSH', ring, org) end
end

for _, set in ipairs({transit, p .. ':waiting'}) do
  local due = redis.call('ZRANGEBYSCORE', set, '-inf', now, 'LIMIT', 0, max_moves)
  for _, id in ipairs(due) do
    redis.call('ZREM', set, id)
    relane(id)
  end
end

local out = {}
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
    redis.call('ZADD', transit, now + lease, id)
    out[#out + 1] = id
    out[#out + 1] = redis.call('HGET', jobs, id)
    taken = taken + 1
  end
  if redis.call('ZCARD', lane) > 0 then
    redis.call('RPUSH', ring, org)
  else
    redis.call('SREM', active, org)
  end
end
return out
