--[[
  Walks a cancel cascade in one step, as far as ARGV[6] tasks (src/agents/workflow/
  workflow-keeper.ts, walk): what the keeper did a round trip per task before, each task of a
  200-deep chain a level of its own.

  First every target given is marked as mark-canceled-1.lua marks it (once; a spawned task only
  if its record names that parent), joining its shard's <prefix>cascade frontier; ids given with
  the reason "" are on a frontier already. Then, breadth first, each task taken from those:
  - marked and still open (pending, in_progress, input_required): ended abandoned with its
    mark's reason, as abandon-tasks-1.lua ends a task (the fence moves on, so no attempt still
    out there can commit);
  - ended by a cancel (abandoned with its mark's reason): its dependents are reached
    ("dependency <id> abandoned");
  - its spawned tasks are reached whether or not it had ended ("parent <id> canceled");
  - it leaves the frontier. A task that ended otherwise keeps its dependents out of the cascade
    (they heard of its end by their notice).
  A target is reached here only in a shard this call may touch (every shard on a single Redis;
  on Redis Cluster, where a script stays in one slot, the call's shard): a target in another
  shard is answered back, for the caller to give to that shard's call, and the task that reached
  it stays on the frontier (held) until the caller has: a crash in between walks it again.
  Tasks past ARGV[6] stay on the frontier (answered back as rest). Every step may be repeated.

  KEYS[1]  a key of the call's shard (declared so that Redis Cluster routes the call)
  ARGV[1]  the deployment's key prefix (a shard's prefix is ARGV[1] .. "{t<n>}:", see shards.ts)
  ARGV[2]  the number of shards
  ARGV[3]  the one shard this call may touch, or "" for every shard
  ARGV[4]  now, ISO 8601 (completed_at of a task ended here)
  ARGV[5]  retention of a terminal record, milliseconds
  ARGV[6]  tasks to walk at most
  ARGV[7..] n x 3 values: task id, the reason it ends with ("" when it is on a frontier
           already), the parent its record must name ("" when any task may be marked)

  Keys written: <prefix>task:<id> (fields canceled, and the abandon's), <prefix>cascade, and
  for a task ended here what abandon-tasks-1.lua writes.
  Returns { walked, ended, rest, foreign, held }: how many tasks were walked; per task ended
  here, { id, its record as HGETALL gives it }; the ids left on the frontier; the targets in
  other shards, flat as ARGV[7..]; the ids held on the frontier for them.
]]
local base, shards, only = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local OPEN = { pending = true, in_progress = true, input_required = true }

-- shardOf in shards.ts: FNV-1a over the id's UTF-16 code units, decoded from its UTF-8 bytes.
local function shard_of(id)
  local h = 2166136261
  local function mix(unit)
    h = bit.bxor(h, unit)
    if h < 0 then h = h + 4294967296 end
    h = (h * 403 + (h % 256) * 16777216) % 4294967296
  end
  local k, n = 1, #id
  while k <= n do
    local b, cp, len = string.byte(id, k), 0, 1
    local function cont(j) return (string.byte(id, k + j) or 128) % 64 end
    if b < 0x80 then cp = b
    elseif b >= 0xF0 then cp, len = (b % 8) * 262144 + cont(1) * 4096 + cont(2) * 64 + cont(3), 4
    elseif b >= 0xE0 then cp, len = (b % 16) * 4096 + cont(1) * 64 + cont(2), 3
    else cp, len = (b % 32) * 64 + cont(1), 2 end
    if cp >= 65536 then
      cp = cp - 65536
      mix(55296 + math.floor(cp / 1024))
      mix(56320 + cp % 1024)
    else
      mix(cp)
    end
    k = k + len
  end
  return h % shards
end

-- The prefix of the id's shard, or nil when this call may not touch it.
local function prefix_of(id)
  local shard = shard_of(id)
  if only ~= '' and tostring(shard) ~= only then return nil end
  return base .. '{t' .. shard .. '}:'
end

local queue, head = {}, 1
local ended, foreign, held = {}, {}, {}

-- mark-canceled-1.lua for one target: true when marked now (it joins the queue).
local function mark(prefix, id, reason, parent)
  local rec = prefix .. 'task:' .. id
  if redis.call('EXISTS', rec) == 0 or redis.call('HEXISTS', rec, 'canceled') == 1 then return false end
  if parent ~= '' and redis.call('HGET', rec, 'parent_id') ~= parent then return false end
  redis.call('HSET', rec, 'canceled', reason)
  redis.call('SADD', prefix .. 'cascade', id)
  return true
end

-- A target: marked here, or answered back (false) when its shard is another call's.
local function reach(id, reason, parent)
  local prefix = prefix_of(id)
  if prefix == nil then
    foreign[#foreign + 1] = id
    foreign[#foreign + 1] = reason
    foreign[#foreign + 1] = parent
    return false
  end
  if mark(prefix, id, reason, parent) then queue[#queue + 1] = id end
  return true
end

-- abandon-tasks-1.lua for one open task (abandon_open, src/agents/ledger/scripts/open-index.lua).
local function abandon(prefix, id, dist, reason)
  abandon_open(prefix, id, dist, reason, ARGV[4], ARGV[5])
  local reply = redis.call('HGETALL', prefix .. 'task:' .. id)
  table.insert(reply, 1, id)
  ended[#ended + 1] = reply
end

-- The ids a task spawned (workflow-keeper.ts, spawnedIds): recorded ones, else its commit's list.
local function spawned_ids(spawned, spawn)
  local ids = {}
  local ok, list
  if spawned then
    ok, list = pcall(cjson.decode, spawned)
    if ok and type(list) == 'table' and #list > 0 then
      for _, id in ipairs(list) do if type(id) == 'string' then ids[#ids + 1] = id end end
      return ids
    end
  end
  if spawn then
    ok, list = pcall(cjson.decode, spawn)
    if ok and type(list) == 'table' then
      for _, t in ipairs(list) do
        if type(t) == 'table' and type(t.task_id) == 'string' then ids[#ids + 1] = t.task_id end
      end
    end
  end
  return ids
end

local function visit(prefix, id)
  local rec = prefix .. 'task:' .. id
  local r = redis.call('HMGET', rec, 'status', 'canceled', 'error', 'spawned', 'spawn', 'distributor')
  local by_cancel = r[2] and r[1] == 'abandoned' and r[3] == r[2]
  if r[2] and r[1] and OPEN[r[1]] then
    abandon(prefix, id, r[6], r[2])
    by_cancel = true
  end
  local handed = false
  if by_cancel then
    for _, d in ipairs(redis.call('SMEMBERS', prefix .. 'dependents:' .. id)) do
      if not reach(d, 'dependency ' .. id .. ' abandoned', '') then handed = true end
    end
  end
  if r[1] then
    for _, c in ipairs(spawned_ids(r[4], r[5])) do
      if not reach(c, 'parent ' .. id .. ' canceled', id) then handed = true end
    end
  end
  if handed then held[#held + 1] = id else redis.call('SREM', prefix .. 'cascade', id) end
end

for i = 7, #ARGV, 3 do
  if ARGV[i + 1] == '' then queue[#queue + 1] = ARGV[i] else reach(ARGV[i], ARGV[i + 1], ARGV[i + 2]) end
end
local walked, limit = 0, tonumber(ARGV[6])
while head <= #queue and walked < limit do
  local id = queue[head]
  head = head + 1
  local prefix = prefix_of(id)
  if prefix ~= nil then
    visit(prefix, id)
    walked = walked + 1
  end
end
local rest = {}
for k = head, #queue do rest[#rest + 1] = queue[k] end
return { walked, ended, rest, foreign, held }
