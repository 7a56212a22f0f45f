--[[
  The registry of the distributors that registered with a coordinator of the store (restored by
  a coordinator that starts or gains shards: distributor-roster.ts), which of them stopped
  gracefully (their last heartbeat said `stopping`): every coordinator, one restarted or one
  that never heard that heartbeat, lists such a distributor as stopped, not as crashed; and the
  task types each one's live workers run, as its heartbeats last said: a coordinator that starts
  while a type's only runner is dead knows that type, and its tasks wait for the runner.

  KEYS[1]  the registry: <prefix>agents:distributors, a JSON object id -> URL (null in-process)
  KEYS[2]  the stopped marks: a hash id -> when it said it stops (ISO 8601), in KEYS[1]'s slot
  KEYS[3]  the task types: a hash id -> JSON array of the types its live workers run, in KEYS[1]'s slot
  ARGV[1]  "add", "stopped", "forget", "read", "types", "read-types" or "prune-types"

  add:        ARGV[2] the id, ARGV[3] its URL, ARGV[4] "1" when it has none (null). The entry is
              written and its stopped mark removed (it registered: alive again).
  stopped:    ARGV[2..4] as add, ARGV[5] when. The entry is written when it is missing (kept as
              it is otherwise) and marked stopped.
  forget:     ARGV[2..] ids: their entries, marks and types are removed.
  read:       returns the ids marked stopped.
  types:      ARGV[2] the id, ARGV[3] its types (a JSON array; "" for none: removed). Written
              only when its types changed (the coordinator compares), not on every heartbeat.
  read-types: returns id, types, id, types...
  prune-types: ARGV[2] at most how many ids to return, ARGV[3..] ids the caller found unregistered
              at its last call: the types of each still not in the registry are removed (left by a
              coordinator of an earlier release, whose forget kept them; an id seen so twice, a
              call apart, is no distributor whose types were written just before its entry).
              Returns the ids of the types hash not in the registry now, sorted, at most ARGV[2]
              (those just removed not among them).
  Returns 1 (add, stopped, forget, types).
]]
local op = ARGV[1]
if op == 'read' then return redis.call('HKEYS', KEYS[2]) end
if op == 'read-types' then return redis.call('HGETALL', KEYS[3]) end
if op == 'prune-types' then
  local raw = redis.call('GET', KEYS[1])
  local registry = raw and cjson.decode(raw) or {}
  for i = 3, #ARGV do
    if registry[ARGV[i]] == nil then redis.call('HDEL', KEYS[3], ARGV[i]) end
  end
  local stale = {}
  for _, id in ipairs(redis.call('HKEYS', KEYS[3])) do
    if registry[id] == nil then stale[#stale + 1] = id end
  end
  table.sort(stale)
  local out = {}
  for i = 1, math.min(#stale, tonumber(ARGV[2]) or 0) do out[i] = stale[i] end
  return out
end
if op == 'types' then
  if ARGV[3] == '' then redis.call('HDEL', KEYS[3], ARGV[2])
  else redis.call('HSET', KEYS[3], ARGV[2], ARGV[3]) end
  return 1
end
local raw = redis.call('GET', KEYS[1])
local registry = raw and cjson.decode(raw) or {}
if op == 'forget' then
  for i = 2, #ARGV do
    registry[ARGV[i]] = nil
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
  end
else
  local url = ARGV[4] == '1' and cjson.null or ARGV[3]
  if op == 'add' then
    registry[ARGV[2]] = url
    redis.call('HDEL', KEYS[2], ARGV[2])
  else
    if registry[ARGV[2]] == nil then registry[ARGV[2]] = url end
    redis.call('HSET', KEYS[2], ARGV[2], ARGV[5])
  end
end
redis.call('SET', KEYS[1], cjson.encode(registry))
return 1
