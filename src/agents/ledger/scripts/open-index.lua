--[[
  The index of a shard's open tasks (every task not yet terminal), prepended to each script
  that adds or removes one (src/agents/ledger/open-index.ts; its twin is there too).

  An id is a field (value "") of one small hash, <prefix>open:<level>:<bucket>, so that each
  stays a listpack (about 13 bytes per id, where a member of one big set costs about 64). The
  bucket is a hash of the id (24 bits of its SHA-1) modulo the level's bucket count (64, 512, 4,096, 32,768 per shard);
  an id goes to the first level whose bucket for it holds fewer than 128 ids (Redis's
  hash-max-listpack-entries), the last level taking any. <prefix>open:depth is the deepest level
  used (absent: 0), so that readers and removals look at the levels in use only.

  <prefix>open, the one set of earlier versions, still holds the ids those versions recorded
  (read, and cleaned as they end) and ids longer than 64 bytes (one would turn its bucket into
  a hashtable for good).
]]
local OPEN_BUCKETS = {64, 512, 4096, 32768}
local OPEN_BUCKET_IDS = 128
local OPEN_ID_BYTES = 64

-- The first 24 bits of the id's SHA-1: spread evenly, and unrelated to the shard (FNV-1a).
local function open_hash(id)
  return tonumber(string.sub(redis.sha1hex(id), 1, 6), 16)
end

local function open_bucket(prefix, h, level)
  return prefix .. 'open:' .. level .. ':' .. (h % OPEN_BUCKETS[level + 1])
end

local function open_depth(prefix)
  return tonumber(redis.call('GET', prefix .. 'open:depth')) or 0
end

local function open_add(prefix, id)
  if #id > OPEN_ID_BYTES then
    redis.call('SADD', prefix .. 'open', id)
    return
  end
  local h = open_hash(id)
  for level = 0, #OPEN_BUCKETS - 1 do
    local bucket = open_bucket(prefix, h, level)
    if level == #OPEN_BUCKETS - 1 or redis.call('HLEN', bucket) < OPEN_BUCKET_IDS then
      redis.call('HSET', bucket, id, '')
      if level > 0 and open_depth(prefix) < level then redis.call('SET', prefix .. 'open:depth', level) end
      return
    end
  end
end

-- Level 0 first, without reading the depth: where nearly every id of a modest backlog is.
local function open_remove(prefix, id)
  if #id <= OPEN_ID_BYTES then
    local h = open_hash(id)
    if redis.call('HDEL', open_bucket(prefix, h, 0), id) == 1 then return end
    for level = 1, open_depth(prefix) do
      if redis.call('HDEL', open_bucket(prefix, h, level), id) == 1 then return end
    end
  end
  redis.call('SREM', prefix .. 'open', id)
end

-- A task that ends (`status`: completed, failed or abandoned) leaves the index and is counted in
-- the shard's <prefix>end-counts, in the step that records its end: every end counted once, by
-- the store, whoever hears of it (TaskLedger.endCounts reads them, read-end-counts-1.lua).
local function open_end(prefix, id, status)
  open_remove(prefix, id)
  redis.call('HINCRBY', prefix .. 'end-counts', status, 1)
end

-- A task with a run_at or an expires_at (its record has the field) leaves the due sets the
-- sweep reads (sweep-due-1.lua) when it ends, not when its time comes: a task placed before its
-- run_at, or started before its expires_at, may end while still in them (counted in
-- triad_tasks_delayed, swept for nothing). A task without either field is in neither.
local function leave_due(prefix, id)
  redis.call('ZREM', prefix .. 'delayed', id)
  redis.call('ZREM', prefix .. 'expiring', id)
end

-- Ends an open task (pending, in_progress or input_required) abandoned with `reason`, as
-- abandon-tasks-1.lua, the cancel cascade's walk (cascade-walk-1.lua), sweep-due-1.lua's
-- expiry, dependency-ended-1.lua and expire-inputs-1.lua end one: the fence moves on, so no
-- attempt still out there can commit; the task leaves the index, counted (open_end), its
-- distributor's set (`dist`, nil when none), its open dependencies, <prefix>waiting,
-- input_due, delayed and expiring; its record expires after `retention` ms (completed_at
-- `at`); a task with dependents joins <prefix>ended so that they are told.
local function abandon_open(prefix, id, dist, reason, at, retention)
  local rec = prefix .. 'task:' .. id
  redis.call('HINCRBY', rec, 'fence', 1)
  redis.call('HSET', rec, 'status', 'abandoned', 'error', reason, 'completed_at', at)
  open_end(prefix, id, 'abandoned')
  if dist then redis.call('SREM', prefix .. 'dist:' .. dist, id) end
  redis.call('PEXPIRE', rec, retention)
  redis.call('DEL', prefix .. 'wait:' .. id)
  redis.call('SREM', prefix .. 'waiting', id)
  redis.call('ZREM', prefix .. 'input_due', id)
  leave_due(prefix, id)
  if redis.call('EXISTS', prefix .. 'dependents:' .. id) == 1 then
    redis.call('SADD', prefix .. 'ended', id)
  end
end

-- The same counts for a script of many tasks (submit-tasks, commit-results): open_tally notes one
-- more `field` (submitted, or an end's status) of the shard in `tally`, a table of the script's
-- own, and open_tally_write writes them when its tasks are done, one HINCRBY per shard and field
-- a call instead of one a task. open_end_tallied is open_end so counted.
local function open_tally(tally, prefix, field)
  local key = prefix .. 'end-counts'
  local by = tally[key]
  if not by then
    by = {}
    tally[key] = by
  end
  by[field] = (by[field] or 0) + 1
end

local function open_end_tallied(tally, prefix, id, status)
  open_remove(prefix, id)
  open_tally(tally, prefix, status)
end

local function open_tally_write(tally)
  for key, by in pairs(tally) do
    for field, n in pairs(by) do redis.call('HINCRBY', key, field, n) end
  end
end

local function open_ids(prefix)
  local out = redis.call('SMEMBERS', prefix .. 'open')
  for level = 0, open_depth(prefix) do
    for b = 0, OPEN_BUCKETS[level + 1] - 1 do
      for _, id in ipairs(redis.call('HKEYS', prefix .. 'open:' .. level .. ':' .. b)) do out[#out + 1] = id end
    end
  end
  return out
end

