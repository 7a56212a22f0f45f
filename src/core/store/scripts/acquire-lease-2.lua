--[[
  Grants a lease if nobody holds it, with a fencing token that grows with every grant.

  KEYS[1]  the lease (a hash: owner, token, acquired_at)
  KEYS[2]  the lease's fencing counter; never expires, so tokens never go backwards
  ARGV[1]  the owner
  ARGV[2]  time to live, milliseconds

  Returns the new fencing token (>= 1), or 0 when the lease is held (by anyone, the same
  owner included: a lease is taken back only once it is free).
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', token, 'acquired_at', now_ms)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token
