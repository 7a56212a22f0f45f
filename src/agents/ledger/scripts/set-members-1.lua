--[[
  Lists a set (a shard's open tasks, or the tasks a distributor holds in a shard).

  KEYS[1]  the set

  Returns its members.
]]
return redis.call('SMEMBERS', KEYS[1])
