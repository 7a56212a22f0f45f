--[[
  Reads task records of one shard.

  KEYS[1]  the shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2..] task ids

  Returns one flat HGETALL array per task (empty when there is no such task).
]]
local out = {}
for i = 2, #ARGV do
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. 'task:' .. ARGV[i])
end
return out
