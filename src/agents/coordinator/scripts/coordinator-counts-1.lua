--[[
  The task counts of every coordinator that served this store (several coordinators,
  DESIGN.md): the cluster's totals, which must not go down when a coordinator dies or restarts.
  Each coordinator writes its own counts (since it started) under a field of its own every
  tick; a field whose coordinator is gone is folded into the field "retired", so the hash
  stays as small as the cluster. The sum over every field is the cluster's total.

  KEYS[1]  the counts hash: <prefix>coordinator-counts (field -> JSON object of counters)
  ARGV[1]  "write", "read" or "fold"

  write: ARGV[2] the field, ARGV[3] its counts (a JSON object), ARGV[4] "1" for the field's
         first write. Written when it is the first write or the field is still there. Returns
         1, or 0 when the field was folded meanwhile (its writer counts on under a new field,
         from what it wrote last: nothing is counted twice).
  read:  returns the hash as [field, counts, field, counts, ...].
  fold:  ARGV[2..] fields to fold: each one still there (not "retired") has its counters added
         into "retired" and is deleted. Returns how many were folded.
]]
local op = ARGV[1]
if op == 'write' then
  if ARGV[4] ~= '1' and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  return 1
end
if op == 'read' then return redis.call('HGETALL', KEYS[1]) end
local raw = redis.call('HGET', KEYS[1], 'retired')
local sum = raw and cjson.decode(raw) or {}
local n = 0
for i = 2, #ARGV do
  local counts = ARGV[i] ~= 'retired' and redis.call('HGET', KEYS[1], ARGV[i])
  if counts then
    for k, v in pairs(cjson.decode(counts)) do
      if type(v) == 'number' then sum[k] = (sum[k] or 0) + v end
    end
    redis.call('HDEL', KEYS[1], ARGV[i])
    n = n + 1
  end
end
if n > 0 then redis.call('HSET', KEYS[1], 'retired', cjson.encode(sum)) end
return n
