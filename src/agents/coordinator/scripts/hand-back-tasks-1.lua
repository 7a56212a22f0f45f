--[[
  Moves tasks a distributor handed back (none of its live workers runs their type) to another
  distributor that runs it (src/agents/coordinator/type-hand-back.ts). Unlike assign-tasks-1.lua
  it moves only a task still pending on the distributor that handed it back: one that started
  there meanwhile (a worker that runs it came), ended, or was moved elsewhere (its holder
  declared dead) stays as it is, its attempt not fenced off. A task moves this way ARGV[3] times
  at most (the record's `handed_back` count): no going back and forth for ever between
  distributors whose workers come and go.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the distributor that handed the tasks back
  ARGV[2]  the distributor they move to
  ARGV[3]  the most moves by hand-back of one task
  ARGV[4..] groups: the shard's key prefix, the number of tasks n, then n items of two values:
           the task id, and the shard owner's lease value the caller holds (see
           shard-lease-2.lua; "" for no check)

  Returns one integer per task: 1 moved (out of ARGV[1]'s set, into ARGV[2]'s, the record naming
  ARGV[2], its handed_back count one more); 0 not moved (not pending, waiting on a dependency,
  not on ARGV[1], or moved ARGV[3] times already); -1 when the owner value given is not the
  shard's current owner lease.
]]
return each_group(4, 2, function(prefix, i)
  local id, owner = ARGV[i], ARGV[i + 1]
  if owner ~= '' and redis.call('GET', prefix .. 'owner') ~= owner then return -1 end
  local rec = prefix .. 'task:' .. id
  local s = redis.call('HMGET', rec, 'status', 'distributor', 'handed_back')
  if s[1] ~= 'pending' or s[2] ~= ARGV[1] or redis.call('EXISTS', prefix .. 'wait:' .. id) == 1 then return 0 end
  local moves = tonumber(s[3]) or 0
  if moves >= tonumber(ARGV[3]) then return 0 end
  redis.call('SREM', prefix .. 'dist:' .. ARGV[1], id)
  redis.call('HSET', rec, 'distributor', ARGV[2], 'handed_back', moves + 1)
  redis.call('SADD', prefix .. 'dist:' .. ARGV[2], id)
  return 1
end)
