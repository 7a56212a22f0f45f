--[[
  Writes the latest progress of running attempts, fenced: only the attempt holding the task's
  current fencing token, while the task is in progress, can write; anything else (a stale
  attempt, a task already ended or moved on) is dropped.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of updates n, then n x 3 values:
           id, fencing token, the progress value (JSON)

  Keys written: <prefix>task:<id> (field progress).
  Returns one integer per update, in order: 1 written, 0 dropped.
]]
return each_group(1, 3, function(prefix, i)
  local rec = prefix .. 'task:' .. ARGV[i]
  local state = redis.call('HMGET', rec, 'status', 'fence')
  if state[1] == 'in_progress' and tonumber(state[2]) == tonumber(ARGV[i + 1]) then
    redis.call('HSET', rec, 'progress', ARGV[i + 2])
    return 1
  else
    return 0
  end
end)
