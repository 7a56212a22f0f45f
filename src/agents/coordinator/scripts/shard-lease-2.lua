--[[
  The life of one shard's ownership lease (several coordinators, DESIGN.md). The lease's value
  is "<coordinator id>#<fencing token>"; the ledger scripts that act for a shard's owner
  (assign-tasks-1.lua, abandon-tasks-1.lua) compare it with the value the caller holds, so a
  coordinator whose lease expired (frozen, partitioned) has its writes refused.

  KEYS[1]  the shard's owner lease: <prefix>owner (a string, expires by PX)
  KEYS[2]  the shard's fencing counter: <prefix>owner-fence (never expires: tokens only grow)
  ARGV[1]  "acquire", "renew" or "release"
  ARGV[2]  the coordinator id
  ARGV[3]  the value held ("" for acquire)
  ARGV[4]  time to live, milliseconds

  acquire: granted when the lease is free, or held under this coordinator's own id (a restart:
           the new token fences the previous incarnation). Returns the new value, or "" when
           another coordinator holds it.
  renew:   extends the lease if it still holds ARGV[3]. Returns 1, or 0 when it is lost.
           A lease that expired (its owner was late: a stalled event loop) and that nobody took
           since — the fencing counter still stands at ARGV[3]'s token, so no other value was
           ever current — is set again under ARGV[3]: renewed, not lost and taken anew.
  release: deletes the lease if it still holds ARGV[3]. Returns 1, or 0.
]]
local op = ARGV[1]
local current = redis.call('GET', KEYS[1])
if op == 'acquire' then
  if current and string.sub(current, 1, #ARGV[2] + 1) ~= ARGV[2] .. '#' then return '' end
  local token = redis.call('INCR', KEYS[2])
  local value = ARGV[2] .. '#' .. token
  redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
  return value
end
if op == 'renew' and not current then
  local mine = ARGV[2] .. '#'
  local token = tonumber(string.sub(ARGV[3], #mine + 1))
  if string.sub(ARGV[3], 1, #mine) ~= mine or not token or token ~= tonumber(redis.call('GET', KEYS[2])) then
    return 0
  end
  redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return 1
end
if current ~= ARGV[3] then return 0 end
if op == 'renew' then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
else
  redis.call('DEL', KEYS[1])
end
return 1
