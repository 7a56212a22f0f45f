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
  <prefix>end-counts (open_end, scripts/open-index.lua).

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
  local rec = prefix .. 'task:' .. id
  local state = redis.call('HMGET', rec, 'status', 'distributor')
  if state[1] ~= 'pending' and state[1] ~= 'in_progress' and state[1] ~= 'input_required' then
    out[#out + 1] = 0
  else
    redis.call('HINCRBY', rec, 'fence', 1)
    redis.call('HSET', rec, 'status', 'abandoned', 'error', ARGV[4], 'completed_at', ARGV[2])
    open_end(prefix, id, 'abandoned')
    if state[2] then redis.call('SREM', prefix .. 'dist:' .. state[2], id) end
    redis.call('PEXPIRE', rec, ARGV[3])
    redis.call('DEL', prefix .. 'wait:' .. id)
    redis.call('SREM', prefix .. 'waiting', id)
    redis.call('ZREM', prefix .. 'input_due', id)
    redis.call('ZREM', prefix .. 'delayed', id)
    redis.call('ZREM', prefix .. 'expiring', id)
    if redis.call('EXISTS', prefix .. 'dependents:' .. id) == 1 then
      redis.call('SADD', prefix .. 'ended', id)
    end
    out[#out + 1] = 1
  end
end
return out
