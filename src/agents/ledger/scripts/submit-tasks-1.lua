--[[
  Records new tasks as pending, before the coordinator says yes to anyone. With a distributor,
  each new task is also placed on it in the same step (what assign-tasks does for a pending
  task), which saves the coordinator a round trip per task.

  The tasks come in groups, one per shard. On a single Redis one call carries every shard's
  group; on Redis Cluster the ledger sends one group per call, and every key the script
  touches (all computed from the group's prefix) is in the slot of KEYS[1].

  KEYS[1]  the first group's <prefix>open (any key of the shard would do), so that a cluster routes
           the call
  ARGV[1]  now, epoch milliseconds (informational timestamps only)
  ARGV[2]  the distributor to place the new tasks on, or "" to leave them unplaced
  ARGV[3..] groups: the shard's key prefix (e.g. "triad:{t7}:"), the number of tasks n, then
           n x 5 values: id, task_type, payload (JSON), created_at, and the rest: "" for a plain
           task, else a JSON array of 7 strings, each "" when not given: max_retries (2),
           backoff_ms (200), depends_on (JSON array of ids), on_dependency_failure, parent_id,
           input_timeout_ms (86,400,000 when it waits for input), schedule (JSON of strings; see
           below). A plain task (the common one) so costs five arguments, not eleven.

  A record holds only what cannot be derived or defaulted, so that a waiting task stays small
  (a listpack hash): no task_id (it is in the key), no zero attempts/failures/fence, no
  max_retries/backoff_ms at their defaults (2, 200 ms); created_at is epoch milliseconds when
  the ledger could write it so (read back as ISO 8601); the task type is in field `type` (a
  small task's listpack then fits jemalloc's 80-byte class; records written before name it
  `task_type`, and the reader takes either). Every reader takes an absent field as its default,
  so records written with all fields (before 0.x) read the same.

  A task with a schedule (src/agents/schedule-controls/) keeps `priority`, `run_at` and
  `expires_at` in its record. With `delay_until` (epoch ms, given only when run_at is still
  ahead) its id goes in <prefix>delayed, scored by it, and it is not placed here: the
  coordinator's sweep places it when it is due. With `expires_ms` its id goes in
  <prefix>expiring, scored by it (the sweep abandons it "expired" if it has not started).

  A task with dependencies is recorded waiting: its open dependencies in <prefix>wait:<id>
  (a set, emptied by dependency-ended notices), its id in <prefix>waiting, and it is never
  placed here: the coordinator places it when the last dependency has ended.

  Every new task joins the shard's open-task index (open_add, scripts/open-index.lua) and is
  counted in field `submitted` of the shard's <prefix>end-counts (beside the ends open_end
  counts): each task once, in the step that records it, whichever coordinator took it; a task
  already recorded counts nothing (TaskLedger.endCounts reads them, read-end-counts-1.lua). The
  counts are written once the call's tasks are recorded, one HINCRBY per shard (open_tally).

  Keys written: <prefix>task:<id>, <prefix>open:<level>:<bucket> (or <prefix>open),
  <prefix>open:depth, <prefix>dist:<distributor>, <prefix>wait:<id>, <prefix>waiting,
  <prefix>delayed, <prefix>expiring, <prefix>end-counts.
  Returns one integer per task, in order: 1 recorded, 0 a task with that id already exists
  (kept as is).
]]
-- Fields a record holds only when given: the name, and the value's place in the rest.
local OPTIONAL = {{'max_retries', 1}, {'backoff_ms', 2}, {'on_dependency_failure', 4},
  {'parent_id', 5}, {'input_timeout_ms', 6}}
local PLAIN = {'', '', '', '', '', '', ''}
local dist = ARGV[2]
local tally = {}
local out = each_group(3, 5, function(prefix, i)
  local id = ARGV[i]
  local rec = prefix .. 'task:' .. id
  if redis.call('EXISTS', rec) == 1 then
    return 0
  else
    -- One write per record: the distributor, when there is one, goes in the same HSET.
    local fields = {'type', ARGV[i + 1], 'payload', ARGV[i + 2], 'status', 'pending',
      'created_at', ARGV[i + 3]}
    local rest = ARGV[i + 4]
    rest = rest == '' and PLAIN or cjson.decode(rest)
    for _, f in ipairs(OPTIONAL) do
      local value = rest[f[2]]
      if value ~= '' then
        fields[#fields + 1] = f[1]
        fields[#fields + 1] = value
      end
    end
    local deps = rest[3]
    local delayed = false
    if rest[7] ~= '' then
      local s = cjson.decode(rest[7])
      for _, key in ipairs({'priority', 'run_at', 'expires_at'}) do
        if s[key] then
          fields[#fields + 1] = key
          fields[#fields + 1] = s[key]
        end
      end
      if s.expires_ms then redis.call('ZADD', prefix .. 'expiring', s.expires_ms, id) end
      if s.delay_until then
        redis.call('ZADD', prefix .. 'delayed', s.delay_until, id)
        delayed = true
      end
    end
    if deps ~= '' then
      fields[#fields + 1] = 'depends_on'
      fields[#fields + 1] = deps
      -- in slices: unpack() has a limit on how many values it spreads (about 8,000)
      local ids = cjson.decode(deps)
      for from = 1, #ids, 1000 do
        redis.call('SADD', prefix .. 'wait:' .. id, unpack(ids, from, math.min(from + 999, #ids)))
      end
      redis.call('SADD', prefix .. 'waiting', id)
    elseif dist ~= '' and not delayed then
      fields[#fields + 1] = 'distributor'
      fields[#fields + 1] = dist
      redis.call('SADD', prefix .. 'dist:' .. dist, id)
    end
    redis.call('HSET', rec, unpack(fields))
    open_add(prefix, id)
    open_tally(tally, prefix, 'submitted')
    return 1
  end
end)
open_tally_write(tally)
return out
