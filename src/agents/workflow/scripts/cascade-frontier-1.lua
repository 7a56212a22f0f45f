--[[
  Moves tasks on a shard's cancel cascade frontier (<prefix>cascade, see mark-canceled-1.lua).

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  a key of the first group's shard (declared so that Redis Cluster routes the call)
  ARGV[1]  "done": the task's dependents and spawned tasks are marked, it leaves the frontier;
           "again": if the task is marked, it joins the frontier again (its spawned tasks were
           recorded after the cascade passed it: they are to be reached now)
  ARGV[2..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Keys written: <prefix>cascade.
  Returns one integer per task, in order: 1 moved, 0 nothing to do.
]]
local op = ARGV[1]
return each_group(2, 1, function(prefix, i)
  local id = ARGV[i]
  if op == 'done' then
    return redis.call('SREM', prefix .. 'cascade', id)
  elseif redis.call('HEXISTS', prefix .. 'task:' .. id, 'canceled') == 1 then
    redis.call('SADD', prefix .. 'cascade', id)
    return 1
  else
    return 0
  end
end)
