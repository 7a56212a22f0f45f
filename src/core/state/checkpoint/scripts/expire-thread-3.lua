--[[
  Gives a thread that is done (its task ended) a time to live: every key of the thread
  (thread_keys: each namespace's index, head, channel values and checkpoints, the namespaces
  set, the fence) and
  its entry in the shard's thread index expire after ARGV[2] ms, as the task's record does. A
  thread not in the index, or one that expires already, is left as it is.

  KEYS[1]  the shard's thread index
  KEYS[2]  the thread's namespaces (its other keys: thread_keys, scripts/thread-keys.lua)
  KEYS[3]  the thread's fence
  ARGV[1]  thread id
  ARGV[2]  time to live, ms
  ARGV[3]  "fenced": only if the thread has a fence (a distributor stored it for a task's
           attempts; a program's own saver writes no fence), else ""

  Returns 1 when the thread now expires, 0 when it was left as it is.
]]
if redis.call('HGET', KEYS[1], ARGV[1]) ~= '0' then return 0 end
if ARGV[3] == 'fenced' and redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
local ttl = tonumber(ARGV[2])
for _, key in ipairs(thread_keys(KEYS[2], KEYS[3])) do
  redis.call('PEXPIRE', key, ttl)
end
local now = redis.call('TIME')
local expires = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + ttl
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', expires))
return 1
