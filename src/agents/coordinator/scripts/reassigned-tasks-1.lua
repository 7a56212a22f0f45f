--[[
  Records that tasks are taken off a distributor declared dead, to be placed again (several
  coordinators: each shard's owner takes its own shards' tasks off): the step that decides a
  reassignment, so it is counted and told once, in the store, whichever coordinator takes it
  and whichever serves the task page afterwards. The task stays where it is (its record still
  names the dead distributor) until assign-tasks-1.lua places it again.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the dead distributor's id
  ARGV[2]  now, epoch ms (the caller's clock: when the reassignment is shown)
  ARGV[3..] groups: the shard's key prefix, the number of tasks n, then n items of two values:
           the task id, and the shard owner's lease value the caller holds (see
           shard-lease-2.lua; "" for no check)

  For each task that is open (pending or in_progress) and still recorded on that distributor,
  once per (distributor, fence): appends [now, distributor, fence, attempt, worker, started_at]
  to the record's field `reassigned` (a JSON array, the newest 20 kept; attempt, worker and
  started_at those of the attempt it ended when it was in progress, else "") and counts it,
  HINCRBY <prefix>end-counts reassigned 1.

  Returns one integer per task: 1 recorded and counted; 2 recorded already (the same
  distributor and fence: a second look at the same death); 0 not open or not on that
  distributor; -1 when the owner value given is not the shard's current owner lease.
]]
local MAX_KEPT = 20
return each_group(3, 2, function(prefix, i)
  local id, owner = ARGV[i], ARGV[i + 1]
  if owner ~= '' and redis.call('GET', prefix .. 'owner') ~= owner then return -1 end
  local rec = prefix .. 'task:' .. id
  local s = redis.call('HMGET', rec, 'status', 'distributor', 'fence', 'attempts', 'assigned_to',
    'started_at', 'reassigned')
  if (s[1] ~= 'pending' and s[1] ~= 'in_progress') or s[2] ~= ARGV[1] then return 0 end
  local fence = s[3] or '0'
  local moves = s[7] and cjson.decode(s[7]) or {}
  local last = moves[#moves]
  if last and last[2] == ARGV[1] and last[3] == fence then return 2 end
  local running = s[1] == 'in_progress' and s[6] and s[6] ~= ''
  moves[#moves + 1] = { ARGV[2], ARGV[1], fence, running and (s[4] or '0') or '',
    running and (s[5] or '') or '', running and s[6] or '' }
  while #moves > MAX_KEPT do table.remove(moves, 1) end
  redis.call('HSET', rec, 'reassigned', cjson.encode(moves))
  redis.call('HINCRBY', prefix .. 'end-counts', 'reassigned', 1)
  return 1
end)
