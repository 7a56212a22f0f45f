--[[
  Stores a task's pending writes against a checkpoint, unless a newer owner has fenced the thread.

  KEYS[1]  the thread's fence (highest fencing token accepted)
  KEYS[2]  the checkpoint (hash: checkpoint, meta, pending writes)
  ARGV[1]  fencing token, or "" to store without fencing
  ARGV[2]  time to live in ms for the keys touched, or ""
  ARGV[3..] triples: field ("w:<idx>:<task>"), write JSON, "1" to replace or "0" to keep the first
           (a task's regular writes are idempotent: the first report wins; errors and
           interrupts, at negative idx, replace)

  Returns 1 when stored, 0 when ARGV[1] is older than the fence (nothing is written).
]]
if ARGV[1] ~= '' then
  local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
  local token = tonumber(ARGV[1])
  if token < fence then return 0 end
  if token > fence then redis.call('SET', KEYS[1], ARGV[1]) end
end
for i = 3, #ARGV, 3 do
  if ARGV[i + 2] == '1' then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  else
    redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
if ARGV[2] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
