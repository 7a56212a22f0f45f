--[[
  Reads every limit with its use, and records how many tasks a distributor has waiting per
  type (reports older than 10 s are dropped: a dead distributor's waiting tasks are counted by
  whoever holds them next).

  KEYS[1]  <prefix>config
  ARGV[1]  the key prefix
  ARGV[2]  the reporting distributor id, or "" (a reader that reports nothing)
  ARGV[3]  "1" to return the holders too (the slot sweeper), else "0"
  ARGV[4..] pairs: task type, the reporter's tasks of that type waiting for a slot

  Keys written: <prefix>waiting:<type> (distributor -> "<count>:<ms>").
  Returns { now ms, { type, limit JSON, in use, waiting }..., holders } where holders is
  { task id, type, value }... flattened (empty unless ARGV[3] is "1").
]]
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local i = 4
while i <= #ARGV do
  local key = prefix .. 'waiting:' .. ARGV[i]
  if ARGV[i + 1] == '0' then
    redis.call('HDEL', key, ARGV[2])
  else
    redis.call('HSET', key, ARGV[2], ARGV[i + 1] .. ':' .. now)
    redis.call('PEXPIRE', key, 60000)
  end
  i = i + 2
end
local limits = {}
local flat = redis.call('HGETALL', KEYS[1])
for j = 1, #flat, 2 do
  local ty = flat[j]
  local key = prefix .. 'waiting:' .. ty
  local reports = redis.call('HGETALL', key)
  local waiting = 0
  for k = 1, #reports, 2 do
    local n, at = string.match(reports[k + 1], '^(%d+):(%d+)$')
    if n and now - tonumber(at) <= 10000 then
      waiting = waiting + tonumber(n)
    else
      redis.call('HDEL', key, reports[k])
    end
  end
  limits[#limits + 1] = {ty, flat[j + 1], redis.call('HLEN', prefix .. 'held:' .. ty), waiting}
end
local holders = {}
if ARGV[3] == '1' then
  local h = redis.call('HGETALL', prefix .. 'holding')
  for j = 1, #h, 2 do
    local value = redis.call('HGET', prefix .. 'held:' .. h[j + 1], h[j])
    if value then
      holders[#holders + 1] = h[j]
      holders[#holders + 1] = h[j + 1]
      holders[#holders + 1] = value
    else
      redis.call('HDEL', prefix .. 'holding', h[j])
    end
  end
end
return {now, limits, holders}
