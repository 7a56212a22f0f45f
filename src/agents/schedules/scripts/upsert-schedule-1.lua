--[[
  Records a recurring schedule, or replaces it. The same definition again changes nothing (its
  next fire time stays: re-applying a schedule neither skips nor repeats a tick); a changed
  one starts again from the next fire time given.

  KEYS[1]  <prefix>def: hash schedule id -> definition JSON
  ARGV[1]  the key prefix ("...{schedules}:")
  ARGV[2]  the schedule id
  ARGV[3]  the definition, JSON (canonical: the same schedule is the same string)
  ARGV[4]  its next fire time, epoch ms

  Keys written: <prefix>def, <prefix>next (sorted set: schedule id scored by its next fire time, epoch ms).
  Returns 1 new, 2 replaced, 0 unchanged.
]]
local old = redis.call('HGET', KEYS[1], ARGV[2])
if old == ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', ARGV[1] .. 'next', ARGV[4], ARGV[2])
if old then return 2 end
return 1
