--[[
  Lists one set in each of several shards (the tasks a distributor holds, the ended or the
  waiting tasks): one call for every shard on a single Redis, one shard per call on Redis
  Cluster, where a call's shards share a hash slot. Read-only.

  KEYS[1]  the first shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the set's name within a shard (e.g. "ended", "dist:<distributor>")
  ARGV[2..] the shards' key prefixes

  Keys read: <prefix><ARGV[1]> for each prefix.
  Returns the members of every set listed, as one list.
]]
local out = {}
for i = 2, #ARGV do
  local members = redis.call('SMEMBERS', ARGV[i] .. ARGV[1])
  for j = 1, #members do
    out[#out + 1] = members[j]
  end
end
return out
