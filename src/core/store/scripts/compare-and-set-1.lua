--[[
  Writes a value only if the key still holds what the caller read: optimistic concurrency
  without WATCH, so it is safe on a connection shared by many concurrent calls.

  KEYS[1]  the key
  ARGV[1]  "1" when the caller read a value, "0" when it read none
  ARGV[2]  the value the caller read (ignored when ARGV[1] is "0")
  ARGV[3]  the new value

  Returns 1 when written, 0 when the key changed in between. The key's TTL is kept.
]]
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '0' then
  if current then return 0 end
elseif current ~= ARGV[2] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'KEEPTTL')
return 1
