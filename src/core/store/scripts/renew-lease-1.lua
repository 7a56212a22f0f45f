--[[
  Extends a lease, only for its owner (and, when given, only for the same grant).

  KEYS[1]  the lease
  ARGV[1]  the owner
  ARGV[2]  new time to live, milliseconds
  ARGV[3]  the fencing token of the grant being renewed, or "" for any grant to this owner

  Returns the lease's fencing token when renewed, 0 otherwise.
]]
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= ARGV[1] then return 0 end
local token = tonumber(redis.call('HGET', KEYS[1], 'token'))
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= token then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return token
