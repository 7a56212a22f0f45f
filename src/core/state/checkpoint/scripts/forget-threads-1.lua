--[[
  Drops expired threads from a shard's thread index. A thread stored with a time to live has
  its keys expire on their own; its index entry stays until list() notices it and calls this.

  KEYS[1]  the shard's thread index (hash: thread id -> expiry in epoch ms, "0" for none)
  ARGV[1..] thread ids that list() found without namespaces

  Returns the number of entries dropped: only those whose expiry has passed, so a thread
  stored again since list() looked stays.
]]
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local dropped = 0
for i = 1, #ARGV do
  local expires = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0')
  if expires > 0 and expires <= ms then
    dropped = dropped + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return dropped
