--[[
  Marks the after-end work of ended tasks done, once the coordinator has recorded their
  spawned tasks and delivered every "dependency ended" notice: the task leaves <prefix>ended,
  its spawned tasks' ids replace their definitions on its record (field spawned), and its set
  of dependents expires with the record (kept until then for cancel cascades and the graph).

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  retention of a terminal record, milliseconds
  ARGV[2..] groups: the shard's key prefix, the number of tasks n, then n x 2 values:
           task id, the ids of the tasks it spawned (JSON array, or "" when it spawned none)

  Keys written: <prefix>ended, <prefix>task:<id>, <prefix>dependents:<id>.
  Returns one integer per task, in order: 1 settled now, 0 it was not waiting to be.
]]
return each_group(2, 2, function(prefix, i)
  local id = ARGV[i]
  if redis.call('SREM', prefix .. 'ended', id) == 0 then
    return 0
  else
    local rec = prefix .. 'task:' .. id
    if ARGV[i + 1] ~= '' and redis.call('EXISTS', rec) == 1 then
      redis.call('HSET', rec, 'spawned', ARGV[i + 1])
      redis.call('HDEL', rec, 'spawn')
    end
    redis.call('PEXPIRE', prefix .. 'dependents:' .. id, ARGV[1])
    return 1
  end
end)
