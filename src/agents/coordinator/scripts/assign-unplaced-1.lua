--[[
  Places tasks that were seen on no distributor (a dependent made ready, a task adopted or found
  unplaced), only if they still are: unlike assign-tasks-1.lua, which moves a task from whatever
  distributor holds it, this never takes a task from a distributor. Two paths that each saw the
  task unplaced (a "ready" notice's answer, the keeper's read after a lost answer, the unplaced
  sweep) may both place it at the same moment: the second finds it placed and leaves it there,
  so a task is never sent to two distributors (src/agents/coordinator/unplaced-scripts.ts).

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the distributor to place the tasks on
  ARGV[2..] groups: the shard's key prefix, the number of tasks n, then n items of two values:
           the task id, and the shard owner's lease value the caller holds (see
           shard-lease-2.lua; "" for no check)

  Returns one answer per task: 1 placed (the record names ARGV[1], the task is in its set);
  0 not placed (unknown, not pending, or still waiting on a dependency); a string, not placed:
  the id of the other distributor that holds it already (left there; the caller knows whether
  its own try whose answer was lost put it there); 3 not placed anew, ARGV[1] holds it already
  (a placement whose answer was lost, retried: the caller knows whether it was its own); -1 when
  the owner value given is not the shard's current owner lease. (Before, another holder was
  answered 2, and a retry that chose another distributor than its lost try could not tell.)
]]
return each_group(2, 2, function(prefix, i)
  local id, owner = ARGV[i], ARGV[i + 1]
  if owner ~= '' and redis.call('GET', prefix .. 'owner') ~= owner then return -1 end
  local rec = prefix .. 'task:' .. id
  local s = redis.call('HMGET', rec, 'status', 'distributor')
  if s[1] ~= 'pending' or redis.call('EXISTS', prefix .. 'wait:' .. id) == 1 then return 0 end
  if s[2] and s[2] ~= '' then return s[2] == ARGV[1] and 3 or s[2] end
  redis.call('HSET', rec, 'distributor', ARGV[1])
  redis.call('SADD', prefix .. 'dist:' .. ARGV[1], id)
  return 1
end)
