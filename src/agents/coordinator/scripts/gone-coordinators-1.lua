--[[
  The coordinators seen alive and then gone (gone-coordinators.ts): kept in the store, so that a
  coordinator that restarts or joins later lists the same dead coordinators as the others, for
  what is left of the dead-agent retention. Bounded: entries older than the retention and the
  oldest beyond a maximum are dropped, and the key expires a retention after its last write.

  KEYS[1]  a hash: coordinator id -> JSON {"at": when it was seen gone (ms, the store's clock),
           "stopped": true when it stopped gracefully, "view": its last view, trimmed}
  ARGV[1]  "went", "alive" or "read"

  went:  ARGV[2] retention (ms), ARGV[3] maximum entries, ARGV[4] the id, ARGV[5] "1" when it
         stopped gracefully, ARGV[6] its view (JSON). An entry already there keeps its `at` (the
         first sighting); `stopped` is kept once any coordinator saw a graceful stop.
         Returns 1.
  alive: ARGV[2..] ids alive (again): their entries are removed. Returns how many were.
  read:  ARGV[2] retention (ms). Returns {now (ms, the store's clock), id, entry, id, entry, ...}
         of the entries within the retention.
]]
local op = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if op == 'alive' then
  local n = 0
  for i = 2, #ARGV do n = n + redis.call('HDEL', KEYS[1], ARGV[i]) end
  return n
end
local retention = tonumber(ARGV[2])
-- The entry's `at`, nil when it is not a JSON object with a number there.
local function at_of(raw)
  local ok, entry = pcall(cjson.decode, raw)
  if ok and type(entry) == 'table' and type(entry.at) == 'number' then return entry.at end
  return nil
end
-- Drops the entries older than the retention (or unreadable); returns the others, oldest first.
local function prune()
  local all = redis.call('HGETALL', KEYS[1])
  local kept = {}
  for i = 1, #all, 2 do
    local at = at_of(all[i + 1])
    if at == nil or now - at > retention then
      redis.call('HDEL', KEYS[1], all[i])
    else
      kept[#kept + 1] = { all[i], all[i + 1], at }
    end
  end
  table.sort(kept, function(a, b) return a[3] < b[3] or (a[3] == b[3] and a[1] < b[1]) end)
  return kept
end
if op == 'read' then
  local out = { now }
  for _, e in ipairs(prune()) do
    out[#out + 1] = e[1]
    out[#out + 1] = e[2]
  end
  return out
end
local id = ARGV[4]
local at = now
local stopped = ARGV[5] == '1'
local raw = redis.call('HGET', KEYS[1], id)
if raw then
  local old_at = at_of(raw)
  if old_at ~= nil and now - old_at <= retention then
    at = old_at
    stopped = stopped or cjson.decode(raw).stopped == true
  end
end
redis.call('HSET', KEYS[1], id, '{"at":' .. string.format('%d', at) .. ',"stopped":' .. tostring(stopped) .. ',"view":' .. ARGV[6] .. '}')
local kept = prune()
local max = tonumber(ARGV[3])
for i = 1, #kept - max do redis.call('HDEL', KEYS[1], kept[i][1]) end
if redis.call('PTTL', KEYS[1]) < retention then redis.call('PEXPIRE', KEYS[1], retention) end
return 1
