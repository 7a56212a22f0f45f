--[[
  Removes a schedule: no tick fires after this (a tick already made stays a task).

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2]  the schedule id

  Returns 1 removed, 0 no such schedule.
]]
local p = ARGV[1]
local id = ARGV[2]
redis.call('ZREM', p .. 'next', id)
redis.call('ZREM', p .. 'ids', id)
redis.call('HDEL', p .. 'last', id)
redis.call('DEL', p .. 'recent:' .. id)
return redis.call('HDEL', KEYS[1], id)
