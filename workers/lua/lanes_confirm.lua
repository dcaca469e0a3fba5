-- The admitted jobs reached the Dramatiq queue: forget them here.
-- KEYS[1]: the queue's tag prefix. ARGV: ids
local p = KEYS[1]
for _, id in ipairs(ARGV) do
  redis.call('ZREM', p .. ':transit', id)
  redis.call('HDEL', p .. ':jobs', id)
  redis.call('HDEL', p .. ':meta', id)
end
return #ARGV
