--[[
  Starts an attempt of each task on a worker: a new fencing token, status in_progress. Only
  the distributor that holds the task may do this.

  KEYS[1]  the shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2]  the distributor id
  ARGV[3]  the worker id
  ARGV[4]  now, ISO 8601 (started_at)
  ARGV[5..] task ids

  Returns one integer per task: the attempt's fencing token (>= 1), or
  -1 unknown task, -2 already terminal, -3 held by another distributor.
]]
local prefix = ARGV[1]
local out = {}
for i = 5, #ARGV do
  local rec = prefix .. 'task:' .. ARGV[i]
  local status = redis.call('HGET', rec, 'status')
  if not status then
    out[#out + 1] = -1
  elseif status ~= 'pending' and status ~= 'in_progress' then
    out[#out + 1] = -2
  elseif redis.call('HGET', rec, 'distributor') ~= ARGV[2] then
    out[#out + 1] = -3
  else
    local fence = redis.call('HINCRBY', rec, 'fence', 1)
    redis.call('HINCRBY', rec, 'attempts', 1)
    redis.call('HSET', rec, 'status', 'in_progress', 'assigned_to', ARGV[3], 'started_at', ARGV[4])
    out[#out + 1] = fence
  end
end
return out
