--[[
  Reads how tasks ended: each one's status, result and error (a dependent's ctx.dependencies,
  src/agents/workflow/dependency-outcomes.ts), without the rest of its record.

  Grouped by shard (each-group.lua's read_each walks the groups; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one array per task, in order: status, result (JSON), error; "" for each one missing
  (all three when the task has no record).
]]
return read_each(function(prefix, id)
  local f = redis.call('HMGET', prefix .. 'task:' .. id, 'status', 'result', 'error')
  return { f[1] or '', f[2] or '', f[3] or '' }
end)
