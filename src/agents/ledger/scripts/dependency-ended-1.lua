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

  A dependent made ready that has a run_at is placed by whoever the delayed index says: still
  in <prefix>delayed with its run_at ahead of ARGV[3], it stays there and the due sweep places
  it (verdict 4); otherwise it leaves <prefix>delayed here (its run_at has passed but no sweep
  has taken it out yet) and the coordinator places it (verdict 2). So a placed task is never
  still in delayed, and a task the sweep already dropped from delayed (while it waited) is never
  left to a sweep that will not see it again, whatever the clock of the coordinator that hears
  the verdict.

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  now, ISO 8601 (completed_at of a dependent abandoned here)
  ARGV[2]  retention of a terminal record, milliseconds
  ARGV[3]  now, epoch milliseconds (compared with the dependent's score in <prefix>delayed)
  ARGV[4..] groups: the shard's key prefix, the number of notices n, then n x 3 values:
           dependent id, dependency id, the dependency's status

  Keys written: <prefix>task:<id>, <prefix>wait:<id>, <prefix>waiting, <prefix>ended,
  <prefix>delayed (a ready dependent whose run_at has passed), and for
  an abandoned dependent (abandon_open, scripts/open-index.lua) the open-task index, counted in
  <prefix>end-counts, and <prefix>delayed, <prefix>expiring, <prefix>input_due: a dependent
  with a run_at or an expiry leaves them when it ends, not when its time comes.
  Returns one array per notice, in order: its verdict, 0 nothing changed (a repeat, or the
  dependent is no longer waiting), 1 still waiting on others, 2 ready (its last dependency
  ended: the coordinator places it), 3 abandoned because of this dependency, 4 ready but
  delayed (its run_at is ahead: the due sweep places it); after a 2, 3 or 4 the dependent's
  record as HGETALL gives it (what the coordinator places or reports, without reading it
  again).
]]
local function with_record(verdict, rec)
  local reply = redis.call('HGETALL', rec)
  table.insert(reply, 1, verdict)
  return reply
end

return each_group(4, 3, function(prefix, i)
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
      local due = redis.call('ZSCORE', prefix .. 'delayed', id)
      if due then
        if tonumber(due) > tonumber(ARGV[3]) then return with_record(4, rec) end
        redis.call('ZREM', prefix .. 'delayed', id)
      end
      return with_record(2, rec)
    else
      return { 1 }
    end
  end
end)
