--[[
  Commits the outcome of attempts, fenced: only the attempt holding the task's current
  fencing token, while the task is in progress, can commit. A failure with retries left puts
  the task back to pending with a backoff instead of ending it.

  Grouped by shard as in submit-tasks (one call for every shard on a single Redis, one shard
  per call on Redis Cluster; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  now, ISO 8601 (completed_at)
  ARGV[2]  now, epoch milliseconds (retry not_before)
  ARGV[3]  retention of a terminal record, milliseconds
  ARGV[4..] groups: the shard's key prefix, the number of results n, then n x 5 values:
           id, fencing token, "completed" | "failed" | "failed_final" | "input_required",
           result JSON | error |
           for input_required: the request's key (a LangGraph interrupt id, or ""), a newline,
           then the request JSON; the tasks the attempt spawned (JSON array, or "")

  An attempt that ends input_required (src/agents/input/) leaves its task waiting, still open
  but on no distributor (its worker slot is free): input_request and input_key are set, and
  the task joins <prefix>input_due, scored by the time (Redis TIME) its input_timeout_ms
  (default 86,400,000) runs out.

  Spawned tasks are written here, in the attempt's own fenced step, onto the parent's record
  (field spawn): a refused or failed attempt spawns nothing. A task that ends with spawned
  tasks or with dependents joins <prefix>ended, the after-end work the coordinator settles
  (see src/agents/workflow/).

  "failed_final": the handler said trying again cannot help (UnrecoverableError): the task fails
  for good, retries left or not.

  A task that ends leaves the shard's open-task index and is counted in <prefix>end-counts
  (open_end_tallied, scripts/open-index.lua: the counts are written once the call's results are
  committed, one HINCRBY per shard and status). One with a run_at or an expires_at also leaves
  <prefix>delayed and <prefix>expiring (leave_due): started before its expires_at, or placed
  before its run_at, it is still in them.

  Keys written: <prefix>task:<id>, <prefix>open:<level>:<bucket> (or <prefix>open),
  <prefix>dist:<distributor>, <prefix>ended, <prefix>input_due, <prefix>end-counts,
  <prefix>delayed, <prefix>expiring.
  Returns one array per result, in order, so that the caller needs no second read of the record:
    {0}                                               refused (stale fencing token, or not in
                                                      progress: the task moved on without it)
    {1, attempts, assigned_to, started_at, ""}         completed
    {2, attempts, assigned_to, started_at, not_before} failed, will be retried after not_before
    {3, attempts, assigned_to, started_at, ""}         failed for good
    {4, attempts, assigned_to, started_at, deadline}   input_required, waiting until deadline
                                                      (epoch ms)
    {5}                                               a duplicate: this attempt's outcome was
                                                      committed already (a resend); nothing written
]]
-- A record's end (completed, or failed for good): a task others must hear of (it has dependents,
-- or `spawn` to record) joins <prefix>ended; it leaves the open index, its distributor's set and,
-- when `scheduled` (it has a run_at or an expires_at), the due sets; it expires after the retention.
local tally = {}
local function ended(prefix, id, rec, dist, spawn, status, scheduled)
  if spawn ~= '' then
    redis.call('HSET', rec, 'spawn', spawn)
    redis.call('SADD', prefix .. 'ended', id)
  elseif redis.call('EXISTS', prefix .. 'dependents:' .. id) == 1 then
    redis.call('SADD', prefix .. 'ended', id)
  end
  open_end_tallied(tally, prefix, id, status)
  if dist then redis.call('SREM', prefix .. 'dist:' .. dist, id) end
  if scheduled then leave_due(prefix, id) end
  redis.call('PEXPIRE', rec, ARGV[3])
end

local out = each_group(4, 5, function(prefix, i)
  local id = ARGV[i]
  local rec = prefix .. 'task:' .. id
  local state = redis.call('HMGET', rec, 'status', 'fence', 'distributor', 'attempts', 'assigned_to', 'started_at',
    'run_at', 'expires_at')
  if tonumber(state[2]) ~= tonumber(ARGV[i + 1]) then
    return {0}
  elseif state[1] ~= 'in_progress' then
    -- Every step that ends or moves a task without this attempt's commit moves the fence on:
    -- the same fence on a task no longer in progress is this attempt's own outcome, sent again.
    if state[1] then return {5} end
    return {0}
  else
    local attempts = tonumber(state[4]) or 0
    local worker = state[5] or ''
    local started = state[6] or ''
    if ARGV[i + 2] == 'completed' then
      redis.call('HSET', rec, 'status', 'completed', 'result', ARGV[i + 3], 'error', '', 'completed_at', ARGV[1])
      ended(prefix, id, rec, state[3], ARGV[i + 4], 'completed', state[7] or state[8])
      return {1, attempts, worker, started, ''}
    elseif ARGV[i + 2] == 'input_required' then
      local value = ARGV[i + 3]
      local nl = string.find(value, '\n', 1, true)
      local timeout = tonumber(redis.call('HGET', rec, 'input_timeout_ms')) or 86400000
      local now = redis.call('TIME')
      local deadline = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + timeout
      redis.call('HSET', rec, 'status', 'input_required', 'input_request', string.sub(value, nl + 1),
        'input_key', string.sub(value, 1, nl - 1), 'assigned_to', '')
      redis.call('HDEL', rec, 'distributor')
      if state[3] then redis.call('SREM', prefix .. 'dist:' .. state[3], id) end
      redis.call('ZADD', prefix .. 'input_due', deadline, id)
      return {4, attempts, worker, started, string.format('%.17g', deadline)}
    else
      local failures = redis.call('HINCRBY', rec, 'failures', 1)
      -- Absent limits are the defaults the submit script leaves out (2 retries, 200 ms).
      local limits = redis.call('HMGET', rec, 'max_retries', 'backoff_ms')
      if ARGV[i + 2] ~= 'failed_final' and failures <= (tonumber(limits[1]) or 2) then
        local notBefore = tonumber(ARGV[2]) + (tonumber(limits[2]) or 200) * 2 ^ (failures - 1)
        redis.call('HSET', rec, 'status', 'pending', 'error', ARGV[i + 3], 'assigned_to', '',
          'not_before', notBefore)
        return {2, attempts, worker, started, string.format('%.17g', notBefore)}
      else
        redis.call('HSET', rec, 'status', 'failed', 'error', ARGV[i + 3], 'completed_at', ARGV[1])
        ended(prefix, id, rec, state[3], '', 'failed', state[7] or state[8])
        return {3, attempts, worker, started, ''}
      end
    end
  end
end)
open_tally_write(tally)
return out
