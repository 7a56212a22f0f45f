--[[
  Moves a schedule past the tick just fired, compare-and-set: only if its next fire time is
  still the one the firer read (another coordinator that fired the same tick, or a removal,
  wins; the task of the tick is one either way, its id being the tick's).

  KEYS[1]  <prefix>def
  ARGV[1]  the key prefix
  ARGV[2]  the schedule id
  ARGV[3]  the fire time read (epoch ms, as stored)
  ARGV[4]  the next fire time, epoch ms
  ARGV[5]  the id of the tick's task
  ARGV[6]  the tick, ISO-8601 UTC
  ARGV[7]  how many recent task ids to keep

  Keys written: <prefix>next (sorted set), <prefix>last (id -> last tick), <prefix>recent:<id> (JSON array).
  Returns 1 advanced, 0 not (moved on already, or removed).
]]
local p = ARGV[1]
local id = ARGV[2]
if redis.call('HEXISTS', KEYS[1], id) == 0 or tonumber(redis.call('ZSCORE', p .. 'next', id)) ~= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', p .. 'next', ARGV[4], id)
redis.call('HSET', p .. 'last', id, ARGV[6])
local key = p .. 'recent:' .. id
local raw = redis.call('GET', key)
local recent = raw and cjson.decode(raw) or {}
table.insert(recent, 1, ARGV[5])
while #recent > tonumber(ARGV[7]) do table.remove(recent) end
redis.call('SET', key, cjson.encode(recent))
return 1
