--[[
  Reads a lease with its remaining time, on the server's clock.

  KEYS[1]  the lease

  Returns nil when nobody holds it, else { owner, token, acquired_at_ms, now_ms, pttl_ms }.
]]
local lease = redis.call('HMGET', KEYS[1], 'owner', 'token', 'acquired_at')
if not lease[1] then return nil end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return { lease[1], tonumber(lease[2]), tonumber(lease[3]), now_ms, redis.call('PTTL', KEYS[1]) }
