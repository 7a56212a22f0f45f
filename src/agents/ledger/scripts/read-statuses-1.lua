--[[
  Reads task statuses alone (a waiter's check that its task has not ended unheard: cheaper
  than read-tasks when nearly every answer is "still open").

  Grouped by shard (each-group.lua's read_each walks the groups; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns each task's status, in order ("" when there is no such task).
]]
return read_each(function(prefix, id)
  return redis.call('HGET', prefix .. 'task:' .. id, 'status') or ''
end)
