--[[
  The schedules whose next fire time has come, by the store's clock (no two coordinators'
  clocks are compared), and the earliest fire time still ahead (when to look again): the first
  members of the sorted set of next fire times, never a scan of every schedule.

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2]  most schedules returned

  Returns { now ms, earliest future fire time ms or -1, { id, due ms, definition JSON }... }.
]]
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local head = redis.call('ZRANGEBYSCORE', p .. 'next', '-inf', now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local due = {}
for i = 1, #head, 2 do
  local def = redis.call('HGET', KEYS[1], head[i])
  if def then due[#due + 1] = {head[i], head[i + 1], def} end
end
local earliest = -1
local ahead = redis.call('ZRANGEBYSCORE', p .. 'next', '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #ahead > 0 then earliest = tonumber(ahead[2]) end
return {now, earliest, due}
