--[[
  Registers dependents on their dependencies, in the dependencies' shard: either the
  dependency is still open and the dependent joins <prefix>dependents:<dependency> (so the
  script that ends it puts it in <prefix>ended, to be settled), or it has already ended and
  its status is answered, for the caller to send the notice itself. Atomic in the
  dependency's shard, so no end can slip between the look and the registration. Repeating a
  registration changes nothing (a set).
  An ended dependency lists the dependent all the same (the graph walks from a task to its
  dependents through that set), the set expiring with the record: a task that depends on one
  that had ended is part of its workflow too.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of pairs n, then n x 2 values:
           dependency id, dependent id

  Keys written: <prefix>dependents:<dependency> (given the record's expiry when it has ended).
  Returns one string per pair, in order: "" registered (the dependency is open), its terminal
  status ("completed", "failed", "abandoned"), or "unknown" (no such task: never was, or its
  record expired).
]]
return each_group(1, 2, function(prefix, i)
  local status = redis.call('HGET', prefix .. 'task:' .. ARGV[i], 'status')
  if not status then
    return 'unknown'
  elseif status == 'pending' or status == 'in_progress' or status == 'input_required' then
    redis.call('SADD', prefix .. 'dependents:' .. ARGV[i], ARGV[i + 1])
    return ''
  else
    local deps = prefix .. 'dependents:' .. ARGV[i]
    redis.call('SADD', deps, ARGV[i + 1])
    local ttl = redis.call('PTTL', prefix .. 'task:' .. ARGV[i])
    if ttl > 0 then redis.call('PEXPIRE', deps, ttl) end
    return status
  end
end)
