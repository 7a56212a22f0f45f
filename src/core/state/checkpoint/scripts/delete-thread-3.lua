--[[
  Deletes a thread whole, in one step: every namespace's index, head and checkpoints (with their
  pending writes), the namespaces set, the fence, and the thread's entry in its shard's index.

  KEYS[1]  the shard's thread index
  KEYS[2]  the thread's namespaces (a set of percent-encoded namespaces); the thread's other
           keys are named after it (store-keys.ts): a namespace's index is KEYS[2] with
           ":namespaces" replaced by ":n:<ns>:index", its head ":n:<ns>:head", its channel
           values ":n:<ns>:values", a checkpoint ":n:<ns>:c:<id>" for each id of the index
  KEYS[3]  the thread's fence
  ARGV[1]  thread id

  Returns the number of keys deleted.
]]
local base = string.sub(KEYS[2], 1, -12)
local deleted = 0
for _, ns in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local space = base .. ':n:' .. ns
  for _, id in ipairs(redis.call('HKEYS', space .. ':index')) do
    deleted = deleted + redis.call('DEL', space .. ':c:' .. id)
  end
  deleted = deleted + redis.call('DEL', space .. ':index', space .. ':head', space .. ':values')
end
deleted = deleted + redis.call('DEL', KEYS[2], KEYS[3])
redis.call('HDEL', KEYS[1], ARGV[1])
return deleted
