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

  A grouped call's ARGV may come packed (TaskLedger.grouped on Redis, see packed-args.ts): one
  value, every value joined with a NUL byte between two, which costs the client one argument's
  encoding instead of one per value. It is split back here, so each_group and the script's own
  text read the same ARGV either way. An unpacked grouped ARGV always holds at least three values
  (a group's prefix, its count and an item), so one value means packed.
]]
local ARGV = ARGV
if #ARGV == 1 then
  local packed, values, from = ARGV[1], {}, 1
  while true do
    local at = string.find(packed, '\0', from, true)
    if at == nil then
      values[#values + 1] = string.sub(packed, from)
      break
    end
    values[#values + 1] = string.sub(packed, from, at - 1)
    from = at + 1
  end
  ARGV = values
end

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
