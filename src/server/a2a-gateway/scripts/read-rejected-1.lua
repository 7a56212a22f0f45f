--[[
  The tasks the A2A gateway refused that are still kept, oldest first.

  KEYS[1]  the index (see record-rejected-1.lua)
  ARGV[1]  the oldest status time wanted (epoch ms)

  Returns { member, score, member, score, ... } (ZRANGEBYSCORE ... WITHSCORES).
]]
return redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf', 'WITHSCORES')
