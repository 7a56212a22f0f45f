--[[
  Reads the schedules named with their next fire time, last tick and recent task ids (a page
  of every schedule is page-schedules-1.lua: nothing reads them all in one call).

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2..] schedule ids

  Returns { { id, definition JSON, next ms or "", last tick or "", recent JSON or "" }... }
  (an unknown id is left out).
]]
local p = ARGV[1]
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local def = redis.call('HGET', KEYS[1], id)
  if def then
    out[#out + 1] = {id, def, redis.call('ZSCORE', p .. 'next', id) or '', redis.call('HGET', p .. 'last', id) or '',
      redis.call('GET', p .. 'recent:' .. id) or ''}
  end
end
return out
