--[[
  Stores one LangGraph checkpoint of a thread, unless a newer owner has fenced the thread.

  KEYS[1]  the thread's fence (highest fencing token accepted)
  KEYS[2]  the thread's namespaces (a set)
  KEYS[3]  the namespace's index (hash: checkpoint id -> meta JSON)
  KEYS[4]  the namespace's head (id of the checkpoint stored last)
  KEYS[5]  the checkpoint (hash: checkpoint, meta, pending writes)
  ARGV[1]  fencing token, or "" to store without fencing
  ARGV[2]  time to live in ms for the keys touched, or "" to keep them until deleteThread
  ARGV[3]  namespace
  ARGV[4]  checkpoint id
  ARGV[5]  serialized checkpoint (JSON of a SerializedValue)
  ARGV[6]  meta JSON: {"parent_checkpoint_id", "metadata"}

  Returns 1 when stored, 0 when ARGV[1] is older than the fence (nothing is written).
]]
if ARGV[1] ~= '' then
  local fence = tonumber(redis.call('GET', KEYS[1]) or '0')
  local token = tonumber(ARGV[1])
  if token < fence then return 0 end
  if token > fence then redis.call('SET', KEYS[1], ARGV[1]) end
end
redis.call('SADD', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[6])
redis.call('SET', KEYS[4], ARGV[4])
redis.call('HSET', KEYS[5], 'checkpoint', ARGV[5], 'meta', ARGV[6])
if ARGV[2] ~= '' then
  for i = 1, 5 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
end
return 1
