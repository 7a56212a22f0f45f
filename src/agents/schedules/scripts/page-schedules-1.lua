--[[
  One page of the schedules, in id order (bytewise), after a cursor: at most ARGV[3] of them and
  at most ARGV[4] bytes of their records, whatever their number and size, so no call reads them
  all (GET /schedules?limit=&cursor=). A schedule whose record alone is over the byte bound is a
  page of its own: every page holds at least one schedule when one follows the cursor. A schedule
  that exists from the first page to the last is on exactly one page.

  The index <prefix>ids (every id, score 0) is written by upsert-schedule-1.lua; schedules
  recorded before it existed (or by an older coordinator) have their ids added here, once, when
  the index does not count as many ids as there are schedules.

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2]  the cursor: the last id of the page before, or "" for the first page
  ARGV[3]  most schedules in the page (a positive integer)
  ARGV[4]  most bytes of records in the page (a positive integer; a row's bytes are the lengths
           of its five strings): a schedule that would take the page past it is left to the next
           page, unless the page has none yet

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
local maxBytes = tonumber(ARGV[4])
local from = '-'
if ARGV[2] ~= '' then from = '(' .. ARGV[2] end
local page = redis.call('ZRANGEBYLEX', ids, from, '+', 'LIMIT', 0, limit + 1)
local nextCursor = ''
local out = {}
local bytes = 0
for i, id in ipairs(page) do
  if i > limit then
    nextCursor = page[i - 1]
    break
  end
  local row = schedule_row(KEYS[1], p, id)
  if row then
    local size = #row[1] + #row[2] + #row[3] + #row[4] + #row[5]
    if #out > 0 and bytes + size > maxBytes then
      nextCursor = page[i - 1]
      break
    end
    bytes = bytes + size
    out[#out + 1] = row
  end
end
return {nextCursor, out}
