--[[
  Takes slots of per-task-type limits for attempts about to start, for the whole cluster: a
  slot is granted when the type has fewer than `concurrency` holders and fewer than its rate's
  capacity started in the last window. Granted slots are reservations (value "r:<ms>:<dist>")
  that bind-slots turns into the attempt's fence once the dispatch script has given one.

  Every key lives in the {limits} slot (one Redis Cluster slot for all types): a limit is a
  cluster-wide count, so it cannot be split over the task shards.

  Rate: starts are counted in 10 buckets of a tenth of the window (1 s, or 1/rate s below one
  per second) plus the current bucket; a start is granted only while that count is below the
  capacity (floor(rate x window)), so no window of that length ever holds more.

  KEYS[1]  <prefix>config: hash task type -> JSON { concurrency?, rate_per_s? }
  ARGV[1]  the key prefix ("...{limits}:")
  ARGV[2]  the distributor id (written into the reservation)
  ARGV[3..] pairs: task type, task id

  Keys written: <prefix>held:<type> (task id -> reservation or fence), <prefix>holding
  (task id -> type), <prefix>rate:<type> (bucket -> starts).
  Returns { reservation, then one integer per pair }: 0 granted, -1 wait for a free slot
  (concurrency), -2 no limit on this type (nothing taken), n > 0 wait n ms (rate).
]]
local prefix = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = 'r:' .. now .. ':' .. ARGV[2]
local specs = {}

local function spec(ty)
  if specs[ty] == nil then
    local raw = redis.call('HGET', KEYS[1], ty)
    specs[ty] = raw and cjson.decode(raw) or false
  end
  return specs[ty]
end

-- 0 when a start is allowed now (and counted), else the ms until the oldest counted bucket leaves.
local function rateWait(ty, rate)
  local window = 1000
  if rate < 1 then window = 1000 / rate end
  local cap = math.max(1, math.floor(rate * window / 1000 + 1e-9))
  local size = window / 10
  local b = math.floor(now / size)
  local key = prefix .. 'rate:' .. ty
  local flat = redis.call('HGETALL', key)
  local count, oldest = 0, b
  for j = 1, #flat, 2 do
    local f = tonumber(flat[j])
    if f < b - 10 then
      redis.call('HDEL', key, flat[j])
    else
      count = count + tonumber(flat[j + 1])
      if f < oldest then oldest = f end
    end
  end
  if count >= cap then return math.max(1, math.ceil((oldest + 11) * size - now)) end
  redis.call('HINCRBY', key, string.format('%d', b), 1)
  redis.call('PEXPIRE', key, math.ceil(window * 2))
  return 0
end

local out = {token}
local i = 3
while i <= #ARGV do
  local ty, id = ARGV[i], ARGV[i + 1]
  local s = spec(ty)
  local held = prefix .. 'held:' .. ty
  if not s then
    out[#out + 1] = -2
  elseif redis.call('HEXISTS', held, id) == 1 then
    out[#out + 1] = -1 -- an earlier attempt still holds its slot until it is released
  elseif s.concurrency and redis.call('HLEN', held) >= s.concurrency then
    out[#out + 1] = -1
  else
    local wait = 0
    if s.rate_per_s then wait = rateWait(ty, s.rate_per_s) end
    if wait > 0 then
      out[#out + 1] = wait
    else
      redis.call('HSET', held, id, token)
      redis.call('HSET', prefix .. 'holding', id, ty)
      out[#out + 1] = 0
    end
  end
  i = i + 2
end
return out
