--[[
  Ends the tasks whose wait for input has run out (their input_timeout_ms, default 24 h):
  abandoned, with the reason, the fence moved on, as abandon-tasks-1.lua ends one (abandon_open,
  src/agents/ledger/scripts/open-index.lua): a task started before its expires_at leaves
  <prefix>expiring too, and one with dependents joins <prefix>ended. One call looks at
  the due entries of each shard's <prefix>input_due (scored by deadline, epoch ms of Redis
  TIME), at most ARGV[3] per shard: the coordinator's one periodic wake-up, no timer per task.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  now, ISO 8601 (completed_at)
  ARGV[2]  retention of a terminal record, milliseconds
  ARGV[3]  due entries looked at per shard at most
  ARGV[4..] the shards' key prefixes

  An entry whose task no longer waits (given input, canceled, expired) just leaves the set.

  Keys written: <prefix>task:<id>, <prefix>input_due, <prefix>ended, the open-task index and
  <prefix>end-counts (open_end), and what abandon_open clears: <prefix>delayed,
  <prefix>expiring, <prefix>dist:<d>, <prefix>wait:<id>, <prefix>waiting.
  Returns {ids of the tasks it abandoned, how many tasks of these shards still wait for input}.
]]
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local out = {}
local waiting = 0
for k = 4, #ARGV do
  local prefix = ARGV[k]
  local due = prefix .. 'input_due'
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', due, '-inf', nowMs, 'LIMIT', 0, tonumber(ARGV[3]))) do
    redis.call('ZREM', due, id)
    local rec = prefix .. 'task:' .. id
    local state = redis.call('HMGET', rec, 'status', 'input_timeout_ms', 'distributor')
    if state[1] == 'input_required' then
      local timeout = state[2] or '86400000'
      abandon_open(prefix, id, state[3],
        'no input was given within ' .. timeout .. ' ms (input_timeout_ms)', ARGV[1], ARGV[2])
      out[#out + 1] = id
    end
  end
  waiting = waiting + redis.call('ZCARD', due)
end
return {out, waiting}
