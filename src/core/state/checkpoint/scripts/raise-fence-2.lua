--[[
  Fences a thread for a new owner: from now on only this fencing token (or a newer one) may
  store checkpoints or writes in it. Called when a task is reassigned, before the new worker
  is seeded, so a late report from the old worker cannot become the thread's head.

  A fence is raised for every retried task, graph or not. For a thread that has stored nothing
  (not in the shard's thread index) it expires after ARGV[3] ms when given: the attempts it
  guards against are long over by then. A thread's first put keeps it for as long as the thread.

  KEYS[1]  the thread's fence
  KEYS[2]  the shard's thread index
  ARGV[1]  fencing token
  ARGV[2]  thread id
  ARGV[3]  time to live in ms of the fence of a thread that has stored nothing, or ""

  Returns 1 when the fence is now ARGV[1] (or already was), 0 when it was newer already.
]]
local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
local token = tonumber(ARGV[1])
if token < fence then return 0 end
if token > fence then redis.call('SET', KEYS[1], ARGV[1]) end
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
