--[[
  Starts an attempt of each task on a worker: a new fencing token, status in_progress. Only
  the distributor that holds the task may do this. A task with a run_at or an expires_at leaves
  <prefix>delayed and <prefix>expiring (leave_due, scripts/open-index.lua) in this step: once it
  has started, its run_at holds nothing back (it was run early: assignTaskToWorker) and its
  expires_at no longer ends it, so it is neither counted in triad_tasks_delayed nor swept while
  it runs.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  A task never started (attempts 0) whose expires_at has passed (its score in <prefix>expiring,
  epoch ms, at or before ARGV[4]) is not started: it ends abandoned "expired" here, as the due
  sweep ends one (sweep-due-1.lua, abandon_open), for it may have waited at its distributor past
  its expires_at (behind a rate limit, a slow pass) before the sweep came to it.

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the distributor id
  ARGV[2]  the worker id
  ARGV[3]  now, ISO 8601 (started_at; completed_at of an expired task)
  ARGV[4]  now, epoch milliseconds (to compare with expires_at)
  ARGV[5]  retention of a terminal record, milliseconds (an expired task's)
  ARGV[6..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one array per task, in order: {fence, attempts} the attempt's fencing token (>= 1)
  and the task's attempt count with this attempt (what its handler is told: a copy of the task
  held elsewhere may be behind, say after a stalled holder started it again before it was
  moved), or {-1} unknown task, {-2} already terminal, {-3} held by another distributor, {-4}
  expired (ended abandoned "expired" by this call).
  (Before, the fencing token alone, or the refusal code.)
]]
return each_group(6, 1, function(prefix, i)
  local rec = prefix .. 'task:' .. ARGV[i]
  local state = redis.call('HMGET', rec, 'status', 'distributor', 'fence', 'attempts', 'run_at', 'expires_at')
  local status = state[1]
  if not status then
    return {-1}
  elseif status ~= 'pending' and status ~= 'in_progress' then
    return {-2}
  elseif state[2] ~= ARGV[1] then
    return {-3}
  elseif state[6] and (tonumber(state[4]) or 0) == 0 and status == 'pending'
      and (tonumber(redis.call('ZSCORE', prefix .. 'expiring', ARGV[i])) or math.huge) <= tonumber(ARGV[4]) then
    abandon_open(prefix, ARGV[i], state[2], 'expired', ARGV[3], ARGV[5])
    return {-4}
  else
    -- One write per attempt: the fence and attempt count as read, plus one.
    local fence = (tonumber(state[3]) or 0) + 1
    local attempts = (tonumber(state[4]) or 0) + 1
    redis.call('HSET', rec, 'fence', fence, 'attempts', attempts,
      'status', 'in_progress', 'assigned_to', ARGV[2], 'started_at', ARGV[3])
    if state[5] or state[6] then leave_due(prefix, ARGV[i]) end
    return {fence, attempts}
  end
end)
