--[[
  Ends tasks that cannot be placed or run, with the reason. The fence moves on, so no
  attempt still out there can commit afterwards.

  KEYS[1]  the shard's <prefix>open (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2]  now, ISO 8601 (completed_at)
  ARGV[3]  retention of a terminal record, milliseconds
  ARGV[4]  the reason
  ARGV[5]  the shard owner's lease value the caller holds (see shard-lease-2.lua), or "" for a
           step any coordinator may take (a client's cancel)
  ARGV[6..] task ids

  A task waiting for input (input_required) is abandoned too, and leaves <prefix>input_due.
  A task waiting for its run_at or expires_at leaves <prefix>delayed and <prefix>expiring (a
  canceled task far ahead would otherwise be counted delayed, and swept, until then).
  A waiting task's set of open dependencies goes; a task with dependents joins <prefix>ended
  so that they are told. The task leaves the shard's open-task index and is counted in
  <prefix>end-counts (open_end). All of this is abandon_open (scripts/open-index.lua), shared
  with the cancel cascade's walk (src/agents/workflow/scripts/cascade-walk-1.lua).

  Returns one integer per task: 1 abandoned, 0 unknown or already terminal; -1 for every task
  when ARGV[5] is not the shard's current owner lease.
]]
local prefix = ARGV[1]
local out = {}
if ARGV[5] ~= '' and redis.call('GET', prefix .. 'owner') ~= ARGV[5] then
  for i = 6, #ARGV do out[#out + 1] = -1 end
  return out
end
for i = 6, #ARGV do
  local id = ARGV[i]
  local state = redis.call('HMGET', prefix .. 'task:' .. id, 'status', 'distributor')
  if state[1] ~= 'pending' and state[1] ~= 'in_progress' and state[1] ~= 'input_required' then
    out[#out + 1] = 0
  else
    abandon_open(prefix, id, state[2], ARGV[4], ARGV[2], ARGV[3])
    out[#out + 1] = 1
  end
end
return out
