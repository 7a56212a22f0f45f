--[[
  Reads task records.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one flat HGETALL array per task, in order (empty when there is no such task); a task
  still waiting on dependencies gets one more pair, waiting_on and their ids as a JSON array.
]]
local out = {}
local i = 1
while i <= #ARGV do
  local prefix = ARGV[i]
  local last = i + 1 + tonumber(ARGV[i + 1])
  i = i + 2
  while i <= last do
    local flat = redis.call('HGETALL', prefix .. 'task:' .. ARGV[i])
    local waiting = redis.call('SMEMBERS', prefix .. 'wait:' .. ARGV[i])
    if #waiting > 0 then
      flat[#flat + 1] = 'waiting_on'
      flat[#flat + 1] = cjson.encode(waiting)
    end
    out[#out + 1] = flat
    i = i + 1
  end
end
return out
