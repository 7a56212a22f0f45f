--[[
  Records new tasks as pending, before the coordinator says yes to anyone. One shard per call.

  KEYS[1]  the shard's set of open (not terminal) task ids
  ARGV[1]  the shard's key prefix, e.g. "triad:{t7}:"
  ARGV[2]  now, epoch milliseconds (informational timestamps only)
  ARGV[3..] per task, 6 values: id, task_type, payload (JSON), created_at, max_retries, backoff_ms

  Returns one integer per task: 1 recorded, 0 a task with that id already exists (kept as is).
]]
local prefix = ARGV[1]
local out = {}
local i = 3
while i <= #ARGV do
  local id = ARGV[i]
  local rec = prefix .. 'task:' .. id
  if redis.call('EXISTS', rec) == 1 then
    out[#out + 1] = 0
  else
    redis.call('HSET', rec, 'task_id', id, 'task_type', ARGV[i + 1], 'payload', ARGV[i + 2],
      'status', 'pending', 'attempts', 0, 'failures', 0, 'fence', 0,
      'created_at', ARGV[i + 3], 'max_retries', ARGV[i + 4], 'backoff_ms', ARGV[i + 5],
      'submitted_ms', ARGV[2])
    redis.call('SADD', KEYS[1], id)
    out[#out + 1] = 1
  end
  i = i + 6
end
return out
