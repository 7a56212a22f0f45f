--[[
  Reads a shard's cancel cascade frontier (see mark-canceled-1.lua), a batch at a time.

  KEYS[1]  <prefix>cascade
  ARGV[1]  how many ids at most

  Returns up to ARGV[1] of its members (any of them: each is taken off once it is done).
]]
return redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[1]))
