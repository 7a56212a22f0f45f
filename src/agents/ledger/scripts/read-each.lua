--[[
  Prepended to the grouped scripts that read one answer per task (read-tasks, read-statuses,
  read-dependents, read-ended, read-outcomes; see defineReadScript in ledger-scripts.ts).

  read_each(read) walks ARGV's groups — the shard's key prefix, the number of tasks n, then n
  task ids (one group per shard on a single Redis, one shard per call on Redis Cluster; see
  submit-tasks) — and returns read(prefix, id) for each task, in order. `read` never answers
  nil (a Lua array would lose the place).
]]
local function read_each(read)
  local out = {}
  local i = 1
  while i <= #ARGV do
    local prefix = ARGV[i]
    local last = i + 1 + tonumber(ARGV[i + 1])
    i = i + 2
    while i <= last do
      out[#out + 1] = read(prefix, ARGV[i])
      i = i + 1
    end
  end
  return out
end
