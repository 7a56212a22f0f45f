--[[
  One schedule's row as read-schedules-1.lua and page-schedules-1.lua answer it, prepended to
  both (src/agents/schedules/schedule-scripts.ts has the twin, scheduleRow).

  schedule_row(def, p, id): def the <prefix>def key, p the key prefix. Returns
  { id, definition JSON, next ms or "", last tick or "", recent JSON or "" }, or nil when there
  is no schedule id.
]]
local function schedule_row(def, p, id)
  local spec = redis.call('HGET', def, id)
  if not spec then return nil end
  return {id, spec, redis.call('ZSCORE', p .. 'next', id) or '', redis.call('HGET', p .. 'last', id) or '',
    redis.call('GET', p .. 'recent:' .. id) or ''}
end
