--[[
  Binds reservations (from acquire-slots) to the attempts the dispatch script started: the slot's
  value becomes the attempt's fencing token, so only a release naming that attempt frees it.
  A reservation whose attempt did not start (fence "": the dispatch was refused — the task
  ended, moved, or its dispatch ended it "expired" — or failed outright) is freed, and the start
  acquire-slots counted for it against its type's rate is given back (count_start,
  rate-starts.lua) — only while the slot still holds the reservation, so a second give-back of
  the same one (a retry whose first call's answer was lost) gives nothing more back, and one
  the sweeper freed as stale (which gave its start back) is left as it is. An attempt whose
  reservation was freed and that takes a slot again here has its start counted again.

  KEYS[1]  <prefix>config (declared so that Redis Cluster routes the call)
  ARGV[1]  the key prefix
  ARGV[2]  the reservation the slots were granted under
  ARGV[3..] triples: task id, task type, the attempt's fencing token or "" (not started)

  Returns one integer per triple: 1 bound (or freed, or bound already), 0 the reservation was
  gone (swept as stale) and the type is at its concurrency: the attempt holds no slot and must
  be taken back.
]]
local prefix = ARGV[1]
local out = {}

local i = 3
while i <= #ARGV do
  local id, ty, fence = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local held = prefix .. 'held:' .. ty
  local value = redis.call('HGET', held, id)
  local mine = value == ARGV[2]
  if fence == '' then
    if mine then
      redis.call('HDEL', held, id)
      redis.call('HDEL', prefix .. 'holding', id)
      count_start(prefix, KEYS[1], ty, ARGV[2], -1)
    end
    out[#out + 1] = 1
  elseif mine then
    redis.call('HSET', held, id, fence)
    out[#out + 1] = 1
  elseif value == fence then
    out[#out + 1] = 1
  else
    local raw = redis.call('HGET', KEYS[1], ty)
    local s = raw and cjson.decode(raw) or nil
    if s == nil or not s.concurrency or redis.call('HLEN', held) < s.concurrency then
      if s ~= nil then
        redis.call('HSET', held, id, fence)
        redis.call('HSET', prefix .. 'holding', id, ty)
        count_start(prefix, KEYS[1], ty, ARGV[2], 1)
      end
      out[#out + 1] = 1
    else
      out[#out + 1] = 0
    end
  end
  i = i + 3
end
return out
