--[[
  Reads task statuses alone (a waiter's check that its task has not ended unheard: cheaper
  than read-tasks when nearly every answer is "still open").

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns each task's status, in order ("" when there is no such task).
]]
local out = {}
local i = 1
while i <= #ARGV do
  local prefix = ARGV[i]
  local last = i + 1 + tonumber(ARGV[i + 1])
  i = i + 2
  while i <= last do
    out[#out + 1] = redis.call('HGET', prefix .. 'task:' .. ARGV[i], 'status') or ''
    i = i + 1
  end
end
return out
