--[[
  How many tasks wait for their run_at (src/agents/schedule-controls/): the sum of the shards'
  <prefix>delayed sorted sets, for the triad_tasks_delayed gauge. Reads only. Shards come as
  key prefixes, as in sweep-due-1.lua (all of them on a single Redis, one per call on Redis
  Cluster, where KEYS[1] routes the call).

  KEYS[1]  the first shard's <prefix>delayed
  ARGV[1..] the shards' key prefixes
  Returns the number of delayed task ids in those shards.
]]
local n = 0
for p = 1, #ARGV do
  n = n + redis.call('ZCARD', ARGV[p] .. 'delayed')
end
return n
