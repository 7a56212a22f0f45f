--[[
  Reads the dependents registered on tasks (see watch-dependencies).

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one array of dependent ids per task, in order (empty when none).
]]
local out = {}
local i = 1
while i <= #ARGV do
  local prefix = ARGV[i]
  local last = i + 1 + tonumber(ARGV[i + 1])
  i = i + 2
  while i <= last do
    out[#out + 1] = redis.call('SMEMBERS', prefix .. 'dependents:' .. ARGV[i])
    i = i + 1
  end
end
return out
