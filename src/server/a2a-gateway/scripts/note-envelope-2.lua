--[[
  Notes, beside a task's A2A envelope, the tenant it belongs to and its context, so that
  ListTasks can filter by both without reading every envelope; trims what the retention let go.
  Sending the same task again only moves its save time (its tenant and context never change).

  KEYS[1]  the notes (a hash: task id -> JSON [tenant digest, context digest])
  KEYS[2]  the save times (a sorted set: task id, score = last save epoch ms)
  ARGV[1]  the task id
  ARGV[2]  its note
  ARGV[3]  now (epoch ms)
  ARGV[4]  the oldest save time kept (epoch ms): older notes are removed, at most ARGV[5] per call
  ARGV[5]  most old notes removed by this call
  ARGV[6]  both keys' time to live (ms), from now

  Returns the notes removed.
]]
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(old) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return #old
