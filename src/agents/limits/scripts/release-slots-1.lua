--[[
  Gives slots back, fenced: a slot is freed only if it is still held by the value named (the
  attempt's fencing token, or a reservation), so a stale holder's release never frees the slot
  of a later attempt of the same task. A reservation freed here (the sweeper's, of one never
  bound: its attempt did not start with it) gives back the start it counted against its type's
  rate (count_start, rate-starts.lua); an attempt's fence gives back nothing of the rate.

  KEYS[1]  <prefix>config (declared so that Redis Cluster routes the call)
  ARGV[1]  the key prefix
  ARGV[2..] pairs: task id, the value its slot must hold

  Returns one integer per pair: 1 freed, 0 not held by that value (left as is).
]]
local prefix = ARGV[1]
local holding = prefix .. 'holding'
local out = {}
local i = 2
while i <= #ARGV do
  local id = ARGV[i]
  local ty = redis.call('HGET', holding, id)
  if ty and redis.call('HGET', prefix .. 'held:' .. ty, id) == ARGV[i + 1] then
    redis.call('HDEL', prefix .. 'held:' .. ty, id)
    redis.call('HDEL', holding, id)
    count_start(prefix, KEYS[1], ty, ARGV[i + 1], -1)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  i = i + 2
end
return out
