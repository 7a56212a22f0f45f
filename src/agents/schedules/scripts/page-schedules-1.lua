--[[
  One page of the schedules, in id order (bytewise), after a cursor: at most ARGV[3] of them,
  whatever their number, so no call reads them all (GET /schedules?limit=&cursor=). A schedule
  that exists from the first page to the last is on exactly one page.

  The index <prefix>ids (every id, score 0) is written by upsert-schedule-1.lua; schedules
  recorded before it existed (or by an older coordinator) have their ids added here, once, when
  the index does not count as many ids as there are schedules.

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2]  the cursor: the last id of the page before, or "" for the first page
  ARGV[3]  most schedules in the page (a positive integer)

  Keys written: <prefix>ids, only when rebuilt.
  Returns { next cursor (the page's last id) or "" when no schedule follows,
            { { id, definition JSON, next ms or "", last tick or "", recent JSON or "" }... } }
  (each row is schedule_row's, scripts/schedule-row.lua, prepended).
]]
local p = ARGV[1]
local ids = p .. 'ids'
if redis.call('ZCARD', ids) ~= redis.call('HLEN', KEYS[1]) then
  redis.call('DEL', ids)
  for _, id in ipairs(redis.call('HKEYS', KEYS[1])) do redis.call('ZADD', ids, 0, id) end
end
local limit = tonumber(ARGV[3])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local page = redis.call('ZRANGEBYLEX', ids, from, '+', 'LIMIT', 0, limit + 1)
local nextCursor = ''
if #page > limit then
  nextCursor = page[limit]
  page[limit + 1] = nil
end
local out = {}
for _, id in ipairs(page) do
  local row = schedule_row(KEYS[1], p, id)
  if row then out[#out + 1] = row end
end
return {nextCursor, out}
