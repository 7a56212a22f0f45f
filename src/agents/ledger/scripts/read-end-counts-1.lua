--[[
  Reads the end counts of several shards: how many tasks each recorded as ended, per status
  (completed, failed, abandoned), counted by the scripts that record the ends (open_end,
  scripts/open-index.lua), and how many it recorded as new (submitted, submit-tasks-1.lua).
  One call for every shard on a single Redis, one shard per call on
  Redis Cluster. Read-only.

  KEYS[1]  the first shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] the shards' key prefixes

  Keys read: <prefix>end-counts for each prefix.
  Returns field, count, field, count, ... of every shard listed, as one list.
]]
local out = {}
for i = 1, #ARGV do
  local counts = redis.call('HGETALL', ARGV[i] .. 'end-counts')
  for j = 1, #counts do
    out[#out + 1] = counts[j]
  end
end
return out
