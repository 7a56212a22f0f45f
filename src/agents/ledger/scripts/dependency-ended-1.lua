--[[
  Applies "dependency ended" notices in the dependents' shard. Each notice removes the
  dependency from the dependent's set of open dependencies (<prefix>wait:<id>): a notice
  delivered twice finds it gone and changes nothing, so senders may repeat notices freely
  (reconciliation does). The set, not a counter: a repeat cannot count an end twice.

  A dependency that ended failed, abandoned or unknown ends the dependent abandoned with
  "dependency <id> <status>", unless its on_dependency_failure is "run"; that end is fenced
  like any abandon, and the dependent joins <prefix>ended when it has dependents of its own,
  so the failure travels down the graph.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  now, ISO 8601 (completed_at of a dependent abandoned here)
  ARGV[2]  retention of a terminal record, milliseconds
  ARGV[3..] groups: the shard's key prefix, the number of notices n, then n x 3 values:
           dependent id, dependency id, the dependency's status

  Keys written: <prefix>task:<id>, <prefix>wait:<id>, <prefix>waiting, <prefix>ended, and for
  an abandoned dependent (abandon_open, scripts/open-index.lua) the open-task index, counted in
  <prefix>end-counts, and <prefix>delayed, <prefix>expiring, <prefix>input_due: a dependent
  with a run_at or an expiry leaves them when it ends, not when its time comes.
  Returns one array per notice, in order: its verdict, 0 nothing changed (a repeat, or the
  dependent is no longer waiting), 1 still waiting on others, 2 ready (its last dependency
  ended: the coordinator places it), 3 abandoned because of this dependency; after a 2 or a 3
  the dependent's record as HGETALL gives it (what the coordinator places or reports, without
  reading it again).
]]
local function with_record(verdict, rec)
  local reply = redis.call('HGETALL', rec)
  table.insert(reply, 1, verdict)
  return reply
end

return each_group(3, 3, function(prefix, i)
  local id = ARGV[i]
  local rec = prefix .. 'task:' .. id
  local wait = prefix .. 'wait:' .. id
  if redis.call('SREM', wait, ARGV[i + 1]) == 0 then
    return { 0 }
  else
    local state = redis.call('HMGET', rec, 'status', 'on_dependency_failure')
    if state[1] ~= 'pending' then
      -- Not reached: a task with open dependencies is never placed, and abandon_open, the only
      -- end of an unplaced task, clears its wait set and <prefix>waiting. A guard, changing nothing.
      return { 0 }
    elseif ARGV[i + 2] ~= 'completed' and state[2] ~= 'run' then
      -- a waiting task has no distributor; it may still be delayed or expiring
      abandon_open(prefix, id, nil, 'dependency ' .. ARGV[i + 1] .. ' ' .. ARGV[i + 2], ARGV[1], ARGV[2])
      return with_record(3, rec)
    elseif redis.call('EXISTS', wait) == 0 then
      redis.call('SREM', prefix .. 'waiting', id)
      return with_record(2, rec)
    else
      return { 1 }
    end
  end
end)
