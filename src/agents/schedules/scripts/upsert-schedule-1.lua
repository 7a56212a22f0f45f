--[[
  Records a recurring schedule, or replaces it. The same definition again changes nothing (its
  next fire time stays: re-applying a schedule neither skips nor repeats a tick); a changed
  one starts again from the next fire time given. A new id is refused when there are already
  ARGV[5] schedules (replacing one is not a new one).

  KEYS[1]  <prefix>def: hash schedule id -> definition JSON
  ARGV[1]  the key prefix ("...{schedules}:")
  ARGV[2]  the schedule id
  ARGV[3]  the definition, JSON (canonical: the same schedule is the same string)
  ARGV[4]  its next fire time, epoch ms
  ARGV[5]  most schedules there may be (none given: no cap)

  Keys written: <prefix>def, <prefix>next (sorted set: schedule id scored by its next fire time,
  epoch ms), <prefix>ids (sorted set: every schedule id, score 0, for paging in id order).
  Returns 1 new, 2 replaced, 0 unchanged, -1 refused (there are ARGV[5] schedules already).
]]
local old = redis.call('HGET', KEYS[1], ARGV[2])
if old == ARGV[3] then return 0 end
local max = tonumber(ARGV[5])
if max and not old and redis.call('HLEN', KEYS[1]) >= max then return -1 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', ARGV[1] .. 'next', ARGV[4], ARGV[2])
redis.call('ZADD', ARGV[1] .. 'ids', 0, ARGV[2])
if old then return 2 end
return 1
