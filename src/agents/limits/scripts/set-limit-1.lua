--[[
  Sets or removes the limit of one task type. Removing it also forgets its slots, rate count
  and waiting reports (the attempts holding them run on unlimited; their releases find nothing).

  KEYS[1]  <prefix>config
  ARGV[1]  the key prefix
  ARGV[2]  the task type
  ARGV[3]  JSON { concurrency?, rate_per_s? }, or "" to remove the limit
  ARGV[4]  most types with a limit there may be (none given: no cap): a new one past it is
           refused; changing the limit of a type that has one is not a new one

  Returns 1 when the type had a limit before, 0 when not, -1 refused (there are ARGV[4] already).
]]
local prefix = ARGV[1]
local ty = ARGV[2]
local had = redis.call('HEXISTS', KEYS[1], ty)
local max = tonumber(ARGV[4])
if ARGV[3] ~= '' and had == 0 and max and redis.call('HLEN', KEYS[1]) >= max then return -1 end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], ty, ARGV[3])
  return had
end
redis.call('HDEL', KEYS[1], ty)
local held = prefix .. 'held:' .. ty
for _, id in ipairs(redis.call('HKEYS', held)) do
  redis.call('HDEL', prefix .. 'holding', id)
end
redis.call('DEL', held, prefix .. 'rate:' .. ty, prefix .. 'waiting:' .. ty)
return had
