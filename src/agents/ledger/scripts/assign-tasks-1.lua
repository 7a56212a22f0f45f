--[[
  Hands tasks to a distributor (first placement, or a move away from a dead one). A task that
  was in progress elsewhere goes back to pending and its fence moves on, so a late result
  from the old attempt is refused. A task in progress on this same distributor (declared dead,
  back before its tasks were placed again: a stall, or a restart under its id) keeps its
  attempt: that distributor holds it (in memory, or adopts it from this record), and fencing it
  off would run its handler a second time.

  KEYS[1]  the shard's set of tasks held by the new distributor
  ARGV[1]  the shard's key prefix
  ARGV[2]  the distributor id
  ARGV[3]  the shard owner's lease value the caller holds (see shard-lease-2.lua), or "" for a
           step any coordinator may take
  ARGV[4]  the distributor the caller found the tasks on (a dead one's, taken off), or "" for
           any: a task whose record names neither it nor ARGV[2] now is left where it is (placed
           meanwhile by another take-off's placement: moved again, its new holder's attempt
           would end; or put on no distributor, awaiting input)
  ARGV[5..] task ids

  Returns one integer per task: 1 assigned (as it was: pending, or in progress on this same
  distributor), 2 assigned and its attempt in progress elsewhere ended (pending now: the new
  holder queues it, with no read of the record to learn so), 0 unknown, already terminal, or
  still waiting on a dependency; -1 for every task when ARGV[3] is not the shard's current owner
  lease; a string when ARGV[4] is given and the record names another distributor: that
  distributor's id ("" for none), nothing written. (Before, it answered 1 for both kinds of
  assignment, and moved a task from whichever distributor held it.)
]]
local prefix = ARGV[1]
local dist = ARGV[2]
local from = ARGV[4]
local out = {}
if ARGV[3] ~= '' and redis.call('GET', prefix .. 'owner') ~= ARGV[3] then
  for i = 5, #ARGV do out[#out + 1] = -1 end
  return out
end
for i = 5, #ARGV do
  local id = ARGV[i]
  local rec = prefix .. 'task:' .. id
  local s = redis.call('HMGET', rec, 'status', 'distributor')
  local status, old = s[1], s[2]
  if (status ~= 'pending' and status ~= 'in_progress') or redis.call('EXISTS', prefix .. 'wait:' .. id) == 1 then
    out[#out + 1] = 0
  elseif from ~= '' and old ~= from and old ~= dist then
    out[#out + 1] = old or ''
  else
    local moved = old ~= dist
    if moved and old and old ~= '' then
      redis.call('SREM', prefix .. 'dist:' .. old, id)
    end
    local ended = status == 'in_progress' and moved
    if ended then
      redis.call('HINCRBY', rec, 'fence', 1)
      redis.call('HSET', rec, 'status', 'pending', 'assigned_to', '')
    end
    redis.call('HSET', rec, 'distributor', dist)
    redis.call('SADD', KEYS[1], id)
    out[#out + 1] = ended and 2 or 1
  end
end
return out
