--[[
  Reads schedules with their next fire time, last tick and recent task ids.

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2..] schedule ids, or none for every schedule

  Returns { { id, definition JSON, next ms or "", last tick or "", recent JSON or "" }... }
  (an unknown id is left out).
]]
local p = ARGV[1]
local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('HKEYS', KEYS[1])
end
local out = {}
for _, id in ipairs(ids) do
  local def = redis.call('HGET', KEYS[1], id)
  if def then
    out[#out + 1] = {id, def, redis.call('ZSCORE', p .. 'next', id) or '', redis.call('HGET', p .. 'last', id) or '',
      redis.call('GET', p .. 'recent:' .. id) or ''}
  end
end
return out
