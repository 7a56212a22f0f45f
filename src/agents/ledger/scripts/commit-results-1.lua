--[[
  Commits the outcome of attempts, fenced: only the attempt holding the task's current
  fencing token, while the task is in progress, can commit. A failure with retries left puts
  the task back to pending with a backoff instead of ending it.

  KEYS[1]  the shard's set of open task ids
  ARGV[1]  the shard's key prefix
  ARGV[2]  now, ISO 8601 (completed_at)
  ARGV[3]  now, epoch milliseconds (retry not_before)
  ARGV[4]  retention of a terminal record, milliseconds
  ARGV[5..] per result, 4 values: id, fencing token, "completed" | "failed", result JSON | error

  Keys written besides KEYS[1], all in its slot: <prefix>task:<id>, <prefix>dist:<distributor>.
  Returns one array per result, so that the caller needs no second read of the record:
    {0}                                              refused (stale fencing token, or not in
                                                     progress: the task moved on without it)
    {1, attempts, assigned_to, started_at, ""}        completed
    {2, attempts, assigned_to, started_at, not_before} failed, will be retried after not_before
    {3, attempts, assigned_to, started_at, ""}        failed for good
]]
local prefix = ARGV[1]
local out = {}
local i = 5
while i <= #ARGV do
  local id = ARGV[i]
  local rec = prefix .. 'task:' .. id
  local state = redis.call('HMGET', rec, 'status', 'fence', 'distributor', 'attempts', 'assigned_to', 'started_at')
  if state[1] ~= 'in_progress' or tonumber(state[2]) ~= tonumber(ARGV[i + 1]) then
    out[#out + 1] = {0}
  else
    local attempts = tonumber(state[4]) or 0
    local worker = state[5] or ''
    local started = state[6] or ''
    if ARGV[i + 2] == 'completed' then
      redis.call('HSET', rec, 'status', 'completed', 'result', ARGV[i + 3], 'error', '', 'completed_at', ARGV[2])
      redis.call('SREM', KEYS[1], id)
      if state[3] then redis.call('SREM', prefix .. 'dist:' .. state[3], id) end
      redis.call('PEXPIRE', rec, ARGV[4])
      out[#out + 1] = {1, attempts, worker, started, ''}
    else
      local failures = redis.call('HINCRBY', rec, 'failures', 1)
      local limits = redis.call('HMGET', rec, 'max_retries', 'backoff_ms')
      if failures <= tonumber(limits[1]) then
        local delay = tonumber(limits[2]) * 2 ^ (failures - 1)
        local notBefore = tonumber(ARGV[3]) + delay
        redis.call('HSET', rec, 'status', 'pending', 'error', ARGV[i + 3], 'assigned_to', '',
          'not_before', notBefore)
        out[#out + 1] = {2, attempts, worker, started, tostring(notBefore)}
      else
        redis.call('HSET', rec, 'status', 'failed', 'error', ARGV[i + 3], 'completed_at', ARGV[2])
        redis.call('SREM', KEYS[1], id)
        if state[3] then redis.call('SREM', prefix .. 'dist:' .. state[3], id) end
        redis.call('PEXPIRE', rec, ARGV[4])
        out[#out + 1] = {3, attempts, worker, started, ''}
      end
    end
  end
  i = i + 4
end
return out
