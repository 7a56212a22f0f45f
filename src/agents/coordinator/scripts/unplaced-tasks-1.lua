--[[
  One bounded step of the unplaced sweep over a shard (src/agents/coordinator/unplaced-sweep.ts):
  walks the shard's open-task index (scripts/open-index.lua) from a cursor, bucket by bucket,
  and lists the tasks in it that nothing will place: pending, on no distributor, waiting on no
  dependency (no <prefix>wait:<id>) and not held for a run_at (not in <prefix>delayed). A task
  waiting for input is input_required, not pending. Read-only.

  KEYS[1]  the shard's <prefix>open (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2]  the cursor: "" or "0" to start, else what the last step answered
  ARGV[3]  the ids to look at, about: the step stops after the bucket that reaches it

  The cursor is a bucket's place in the index, level by level (level 0's 64 buckets first, then
  the levels in use, see open_depth), then "s" for <prefix>open, the set of earlier versions and of
  ids longer than 64 bytes, read whole in a step of its own.

  Returns { next cursor ("" once the shard's index is walked), the ids looked at, id, id, ... }.
]]
local prefix = ARGV[1]
local cursor = ARGV[2]
local budget = tonumber(ARGV[3]) or 1000
local out = { '', 0 }
local seen = 0

local function look(id)
  seen = seen + 1
  local s = redis.call('HMGET', prefix .. 'task:' .. id, 'status', 'distributor')
  if s[1] == 'pending' and (not s[2] or s[2] == '')
    and redis.call('EXISTS', prefix .. 'wait:' .. id) == 0
    and not redis.call('ZSCORE', prefix .. 'delayed', id) then
    out[#out + 1] = id
  end
end

if cursor == 's' then
  for _, id in ipairs(redis.call('SMEMBERS', prefix .. 'open')) do look(id) end
  out[2] = seen
  return out
end
local place = tonumber(cursor) or 0
local depth = open_depth(prefix)
local first = 0
for level = 0, depth do
  local n = OPEN_BUCKETS[level + 1]
  while place < first + n do
    for _, id in ipairs(redis.call('HKEYS', prefix .. 'open:' .. level .. ':' .. (place - first))) do look(id) end
    place = place + 1
    if seen >= budget then
      if place < first + n or level < depth then out[1] = tostring(place) else out[1] = 's' end
      out[2] = seen
      return out
    end
  end
  first = first + n
end
out[1] = 's'
out[2] = seen
return out
