--[[
  Reads how tasks ended: each one's status, result and error (a dependent's ctx.dependencies,
  src/agents/workflow/dependency-outcomes.ts), without the rest of its record.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one array per task, in order: status, result (JSON), error; "" for each one missing
  (all three when the task has no record).
]]
local out = {}
local i = 1
while i <= #ARGV do
  local prefix = ARGV[i]
  local last = i + 1 + tonumber(ARGV[i + 1])
  i = i + 2
  while i <= last do
    local f = redis.call('HMGET', prefix .. 'task:' .. ARGV[i], 'status', 'result', 'error')
    out[#out + 1] = { f[1] or '', f[2] or '', f[3] or '' }
    i = i + 1
  end
end
return out
