--[[
  Notes a task the A2A gateway refused (REJECTED, never a Triad task) in the index ListTasks
  reads, and trims the index: members older than the retention go, then the oldest beyond
  the most kept. Sending the same member again only moves its score.

  KEYS[1]  the index (a sorted set: member = JSON [task id, context id digest], score = status time ms)
  ARGV[1]  the member
  ARGV[2]  its status time (epoch ms)
  ARGV[3]  the oldest status time kept (epoch ms): older members are removed
  ARGV[4]  most members kept
  ARGV[5]  the index's time to live (ms), from now

  Returns the members kept.
]]
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
local extra = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, extra - 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return redis.call('ZCARD', KEYS[1])
