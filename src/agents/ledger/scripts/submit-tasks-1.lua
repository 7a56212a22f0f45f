--[[
  Records new tasks as pending, before the coordinator says yes to anyone. One shard per call.
  With a distributor, each new task is also placed on it in the same step (what assign-tasks
  does for a pending task), which saves the coordinator a round trip per task.

  KEYS[1]  the shard's set of open (not terminal) task ids
  ARGV[1]  the shard's key prefix, e.g. "triad:{t7}:"
  ARGV[2]  now, epoch milliseconds (informational timestamps only)
  ARGV[3]  the distributor to place the new tasks on, or "" to leave them unplaced
  ARGV[4..] per task, 6 values: id, task_type, payload (JSON), created_at, max_retries, backoff_ms

  Keys written besides KEYS[1], all in its slot: <prefix>task:<id>, <prefix>dist:<distributor>.
  Returns one integer per task: 1 recorded, 0 a task with that id already exists (kept as is).
]]
local prefix = ARGV[1]
local dist = ARGV[3]
local out = {}
local i = 4
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
    if dist ~= '' then
      redis.call('HSET', rec, 'distributor', dist)
      redis.call('SADD', prefix .. 'dist:' .. dist, id)
    end
    out[#out + 1] = 1
  end
  i = i + 6
end
return out
