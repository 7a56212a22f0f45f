--[[
  Takes attempts back from a worker declared dead: the fence moves on at once, so whatever
  the old attempt delivers later is refused by its token, not by timing.

  KEYS[1]  the shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2]  the distributor id
  ARGV[3..] per task, 2 values: id, the fencing token of the attempt being taken back

  Returns one integer per task: 1 back to pending, 0 the attempt had already moved on.
]]
local prefix = ARGV[1]
local out = {}
local i = 3
while i <= #ARGV do
  local rec = prefix .. 'task:' .. ARGV[i]
  local state = redis.call('HMGET', rec, 'status', 'fence', 'distributor')
  if state[1] == 'in_progress' and tonumber(state[2]) == tonumber(ARGV[i + 1]) and state[3] == ARGV[2] then
    redis.call('HINCRBY', rec, 'fence', 1)
    redis.call('HSET', rec, 'status', 'pending', 'assigned_to', '')
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  i = i + 2
end
return out
