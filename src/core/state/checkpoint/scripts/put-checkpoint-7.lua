--[[
  Stores one LangGraph checkpoint of a thread, unless a newer owner has fenced the thread, and
  records the thread in its shard's thread index (what list() walks when no thread is given).
  A checkpoint put() stored split (channel-values.ts) comes without its channel values; the
  values its step changed come as blobs, each under its (channel, version).

  KEYS[1]  the shard's thread index (hash: thread id -> expiry in epoch ms, "0" for none)
  KEYS[2]  the thread's fence (highest fencing token accepted)
  KEYS[3]  the thread's namespaces (a set of percent-encoded namespaces)
  KEYS[4]  the namespace's index (hash: checkpoint id -> meta JSON)
  KEYS[5]  the namespace's head (id of the checkpoint stored last)
  KEYS[6]  the checkpoint (hash: checkpoint, values, pending writes)
  KEYS[7]  the namespace's channel values (hash: JSON [channel, version] -> serialized value)
  ARGV[1]  fencing token, or "" to store without fencing
  ARGV[2]  time to live in ms for the thread's keys touched, or "" to keep them until deleteThread
  ARGV[3]  the namespace, percent-encoded
  ARGV[4]  checkpoint id
  ARGV[5]  serialized checkpoint (JSON of a SerializedValue), whole or without channel values
  ARGV[6]  meta JSON: {"parent_checkpoint_id", "metadata"}
  ARGV[7]  thread id
  ARGV[8]  for a split checkpoint, the JSON list of its channels' fields in KEYS[7]; "" if whole
  ARGV[9..] pairs: a field of KEYS[7], the serialized value stored there

  Returns 1 when stored, 0 when ARGV[1] is older than the fence (nothing is written).
]]
if ARGV[1] ~= '' then
  local fence = tonumber(redis.call('GET', KEYS[2]) or '0')
  local token = tonumber(ARGV[1])
  if token < fence then return 0 end
  if token > fence then redis.call('SET', KEYS[2], ARGV[1]) end
end
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('HSET', KEYS[4], ARGV[4], ARGV[6])
redis.call('SET', KEYS[5], ARGV[4])
redis.call('HSET', KEYS[6], 'checkpoint', ARGV[5])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[6], 'values', ARGV[8]) end
for i = 9, #ARGV, 2 do redis.call('HSET', KEYS[7], ARGV[i], ARGV[i + 1]) end
if ARGV[2] == '' then
  redis.call('HSET', KEYS[1], ARGV[7], '0')
  redis.call('PERSIST', KEYS[2]) -- a fence raised before the first put may have had one
else
  for i = 2, 7 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
  local now = redis.call('TIME')
  local expires = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], ARGV[7], string.format('%d', expires))
end
return 1
