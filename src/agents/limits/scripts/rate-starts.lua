--[[
  The start acquire-slots-1.lua counted against a type's rate for a slot granted under a
  reservation ("r:<ms>:<distributor>"), prepended to the scripts that free or bind reservations
  (bind-slots-1.lua, release-slots-1.lua; limit-scripts.ts, whose twin is there too).

  A reservation freed without being bound is an attempt that never started with it: its start is
  given back, once, by whoever frees it (a dispatch refused or failed outright, the sweeper's
  release of a stale reservation). An attempt bound after its reservation was freed started after
  all: its start is counted again. Both in the bucket of the reservation's time, as acquire-slots
  counted it, by the type's current rate; a bucket already empty or gone is left as it is.
]]

-- delta -1: given back; +1: counted again. Nothing when the value is no reservation or the type has no rate.
local function count_start(prefix, config, ty, reservation, delta)
  local at = tonumber(string.match(reservation, '^r:(%d+):'))
  if not at then return end
  local raw = redis.call('HGET', config, ty)
  local s = raw and cjson.decode(raw) or nil
  if not (s and s.rate_per_s) then return end
  local window = 1000
  if s.rate_per_s < 1 then window = 1000 / s.rate_per_s end
  local key = prefix .. 'rate:' .. ty
  local b = string.format('%d', math.floor(at / (window / 10)))
  if delta > 0 then
    redis.call('HINCRBY', key, b, 1)
    redis.call('PEXPIRE', key, math.ceil(window * 2))
  elseif (tonumber(redis.call('HGET', key, b)) or 0) > 0 and redis.call('HINCRBY', key, b, -1) <= 0 then
    redis.call('HDEL', key, b)
  end
end
