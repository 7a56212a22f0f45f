--[[
  Deletes a thread whole, in one step: every namespace's index, head and checkpoints (with their
  pending writes), the namespaces set, the fence (thread_keys, scripts/thread-keys.lua), and the
  thread's entry in its shard's index.

  KEYS[1]  the shard's thread index
  KEYS[2]  the thread's namespaces (a set of percent-encoded namespaces)
  KEYS[3]  the thread's fence
  ARGV[1]  thread id

  Returns the number of keys deleted.
]]
local deleted = 0
for _, key in ipairs(thread_keys(KEYS[2], KEYS[3])) do
  deleted = deleted + redis.call('DEL', key)
end
redis.call('HDEL', KEYS[1], ARGV[1])
return deleted
