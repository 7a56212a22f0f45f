--[[
  Gives a lease up, only for its owner (and, when given, only for the same grant).

  KEYS[1]  the lease
  ARGV[1]  the owner
  ARGV[2]  the fencing token of the grant being released, or "" for any grant to this owner

  Returns 1 when released, 0 otherwise.
]]
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' and tonumber(ARGV[2]) ~= tonumber(redis.call('HGET', KEYS[1], 'token')) then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
