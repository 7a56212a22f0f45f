--[[
  Reads the dependents registered on tasks (see watch-dependencies).

  Grouped by shard (each-group.lua's read_each walks the groups; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one array of dependent ids per task, in order (empty when none).
]]
return read_each(function(prefix, id)
  return redis.call('SMEMBERS', prefix .. 'dependents:' .. id)
end)
