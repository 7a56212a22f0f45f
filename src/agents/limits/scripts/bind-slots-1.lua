--[[
  Binds reservations (from acquire-slots) to the attempts the dispatch script started: the slot's
  value becomes the attempt's fencing token, so only a release naming that attempt frees it.
  A reservation whose dispatch was refused (fence "": the attempt never started — the task
  ended, moved, or its dispatch ended it "expired") is freed, and the start acquire-slots counted
  for it against its type's rate is given back (from the bucket of the reservation's time, as
  acquire-slots counted it; a bucket already empty or gone is left as it is).

  KEYS[1]  <prefix>config (declared so that Redis Cluster routes the call)
  ARGV[1]  the key prefix
  ARGV[2]  the reservation the slots were granted under
  ARGV[3..] triples: task id, task type, the attempt's fencing token or "" (not started)

  Returns one integer per triple: 1 bound (or freed), 0 the reservation was gone (swept as
  stale) and the type is at its concurrency: the attempt holds no slot and must be taken back.
]]
local prefix = ARGV[1]
local reserved_at = tonumber(string.match(ARGV[2], '^r:(%d+):'))
local out = {}

-- The start acquire-slots counted for a slot of type `ty` granted under this reservation, given back.
local function unstart(ty)
  local raw = redis.call('HGET', KEYS[1], ty)
  local s = raw and cjson.decode(raw) or nil
  if not (s and s.rate_per_s and reserved_at) then return end
  local window = 1000
  if s.rate_per_s < 1 then window = 1000 / s.rate_per_s end
  local key = prefix .. 'rate:' .. ty
  local b = string.format('%d', math.floor(reserved_at / (window / 10)))
  if (tonumber(redis.call('HGET', key, b)) or 0) > 0 and redis.call('HINCRBY', key, b, -1) <= 0 then
    redis.call('HDEL', key, b)
  end
end

local i = 3
while i <= #ARGV do
  local id, ty, fence = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local held = prefix .. 'held:' .. ty
  local mine = redis.call('HGET', held, id) == ARGV[2]
  if fence == '' then
    if mine then
      redis.call('HDEL', held, id)
      redis.call('HDEL', prefix .. 'holding', id)
    end
    unstart(ty)
    out[#out + 1] = 1
  elseif mine then
    redis.call('HSET', held, id, fence)
    out[#out + 1] = 1
  else
    local raw = redis.call('HGET', KEYS[1], ty)
    local s = raw and cjson.decode(raw) or nil
    if s == nil or not s.concurrency or redis.call('HLEN', held) < s.concurrency then
      if s ~= nil then
        redis.call('HSET', held, id, fence)
        redis.call('HSET', prefix .. 'holding', id, ty)
      end
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
  i = i + 3
end
return out
