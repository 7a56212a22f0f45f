--[[
  The schedules whose next fire time has come, by the store's clock (no two coordinators'
  clocks are compared), and the earliest fire time still ahead (when to look again).

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2]  most schedules returned

  Returns { now ms, earliest future fire time ms or -1, { id, due ms, definition JSON }... }.
]]
local p = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local flat = redis.call('HGETALL', p .. 'next')
local due = {}
local earliest = -1
for i = 1, #flat, 2 do
  local at = tonumber(flat[i + 1])
  if at <= now then
    if #due < tonumber(ARGV[2]) then
      local def = redis.call('HGET', KEYS[1], flat[i])
      if def then due[#due + 1] = {flat[i], flat[i + 1], def} end
    end
  elseif earliest == -1 or at < earliest then
    earliest = at
  end
end
return {now, earliest, due}
