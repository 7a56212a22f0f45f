--[[
  Reads the schedules named with their next fire time, last tick and recent task ids (a page
  of every schedule is page-schedules-1.lua: nothing reads them all in one call).

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2..] schedule ids

  Returns { { id, definition JSON, next ms or "", last tick or "", recent JSON or "" }... }
  (an unknown id is left out; each row is schedule_row's, scripts/schedule-row.lua, prepended).
]]
local p = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local row = schedule_row(KEYS[1], p, ARGV[i])
  if row then out[#out + 1] = row end
end
return out
