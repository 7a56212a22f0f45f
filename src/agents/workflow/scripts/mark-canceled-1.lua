--[[
  Marks tasks reached by a cancel cascade (src/agents/workflow/workflow-keeper.ts, cascadeCancel): the record
  keeps the reason it is to end with (field canceled), and its id joins <prefix>cascade, the
  shard's cascade frontier: tasks whose own dependents and spawned tasks are still to be
  reached. A task is marked once: a second mark (a diamond, a repeated cancel, a sweep after a
  crash) changes nothing, so a cascade walks every task once and always ends.

  A task reached as a spawned task names its parent: it is marked only if its record's
  parent_id is that parent. An attempt may spawn an id that already exists (another client's
  task): the spawn recorded nothing, and a cancel of the spawner never reaches that task.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  a key of the first group's shard (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n x 3 values:
           task id, the reason it ends with if it is still open ("parent <id> canceled", ...),
           the parent its record must name ("" when any task may be marked)

  Keys written: <prefix>task:<id> (field canceled), <prefix>cascade.
  Returns one integer per task, in order: 1 marked now, 0 no such task, marked already, or
  not a task of that parent.
]]
return each_group(1, 3, function(prefix, i)
  local rec = prefix .. 'task:' .. ARGV[i]
  local parent = ARGV[i + 2]
  if redis.call('EXISTS', rec) == 0 or redis.call('HEXISTS', rec, 'canceled') == 1 then
    return 0
  elseif parent ~= '' and redis.call('HGET', rec, 'parent_id') ~= parent then
    return 0
  else
    redis.call('HSET', rec, 'canceled', ARGV[i + 1])
    redis.call('SADD', prefix .. 'cascade', ARGV[i])
    return 1
  end
end)
