--[[
  Lists a set (the tasks a distributor holds in a shard, its ended or waiting tasks).

  KEYS[1]  the set

  Returns its members.
]]
return redis.call('SMEMBERS', KEYS[1])
