--[[
  Reads what settling ended tasks needs (workflow-keeper.ts): each task's status, whether its
  committed attempt spawned tasks not yet recorded, whether a cancel reached it, and the
  dependents registered on it (see watch-dependencies). One read instead of the whole record
  and the dependents apart.

  Grouped by shard (each-group.lua's read_each walks the groups; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one array per task, in order: its status ("" when it has no record), "1" when it has
  spawned tasks to record (else ""), "1" when a cancel reached it (else ""), then its
  dependents' ids.
]]
return read_each(function(prefix, id)
  local state = redis.call('HMGET', prefix .. 'task:' .. id, 'status', 'spawn', 'canceled')
  local reply = { state[1] or '', state[2] and '1' or '', state[3] and '1' or '' }
  for _, dependent in ipairs(redis.call('SMEMBERS', prefix .. 'dependents:' .. id)) do
    reply[#reply + 1] = dependent
  end
  return reply
end)
