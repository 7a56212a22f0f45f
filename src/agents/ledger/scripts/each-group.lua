--[[
  Prepended to every grouped script (see withGroups in ledger-scripts.ts). From ARGV[first] on,
  a grouped script's ARGV holds groups, one per shard: the shard's key prefix, the number of
  items n, then n items of `stride` values each (one group per shard on a single Redis, one shard
  per call on Redis Cluster; see submit-tasks).

  each_group(first, stride, visit) calls visit(prefix, i) for every item, in order, with i the
  place in ARGV of the item's first value, and returns what visit answered, one per item. visit
  never answers nil (a Lua array would lose the place).

  read_each(read) is its case for the scripts that read one answer per task id (read-tasks,
  read-statuses, read-dependents, read-ended, read-outcomes): ARGV is groups of ids alone.
]]
local function each_group(first, stride, visit)
  local out = {}
  local i = first
  while i <= #ARGV do
    local prefix = ARGV[i]
    local last = i + 1 + tonumber(ARGV[i + 1]) * stride
    i = i + 2
    while i <= last do
      out[#out + 1] = visit(prefix, i)
      i = i + stride
    end
  end
  return out
end

local function read_each(read)
  return each_group(1, 1, function(prefix, i)
    return read(prefix, ARGV[i])
  end)
end
