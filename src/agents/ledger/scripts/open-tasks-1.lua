--[[
  Lists a shard's open tasks: the ids in its open-task index (scripts/open-index.lua), and in
  <prefix>open, the set earlier versions kept them in (and ids longer than 64 bytes).

  KEYS[1]  the shard's <prefix>open (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix

  Returns the ids.
]]
return open_ids(ARGV[1])
