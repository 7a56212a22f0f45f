--[[
  Fences a thread for a new owner: from now on only this fencing token (or a newer one) may
  store checkpoints or writes in it. Called when a task is reassigned, before the new worker
  is seeded, so a late report from the old worker cannot become the thread's head.

  KEYS[1]  the thread's fence
  ARGV[1]  fencing token

  Returns 1 when the fence is now ARGV[1] (or already was), 0 when it was newer already.
]]
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
local token = tonumber(ARGV[1])
if token < fence then return 0 end
if token > fence then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
