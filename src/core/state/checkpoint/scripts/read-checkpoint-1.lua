--[[
  Reads one checkpoint of a namespace with its meta and pending writes, in one step.

  KEYS[1]  the namespace's index (hash: checkpoint id -> meta JSON); the namespace's other keys
           are named after it (store-keys.ts): its head is KEYS[1] with ":index" replaced by
           ":head", a checkpoint by ":c:<id>", its channel values by ":values"
  ARGV[1]  which: "id" (ARGV[2]), "newest" (the largest id, compared byte by byte) or "head"
           (the one stored last)
  ARGV[2]  the checkpoint id, when ARGV[1] is "id"

  Returns {id, meta JSON, {field, value...} of the checkpoint hash, {field, value...} of the
  channel values a split checkpoint names (those stored)}, or nil when there is no such
  checkpoint.
]]
local base = string.sub(KEYS[1], 1, -7)
local id = false
if ARGV[1] == 'id' then
  id = ARGV[2]
elseif ARGV[1] == 'head' then
  id = redis.call('GET', base .. ':head')
else
  -- Byte order, as the embedded twin compares: Lua's < follows the server's collation locale.
  local function later(a, b)
    local n = math.min(#a, #b)
    for i = 1, n do
      local x, y = string.byte(a, i), string.byte(b, i)
      if x ~= y then return x > y end
    end
    return #a > #b
  end
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if id == false or later(field, id) then id = field end
  end
end
if not id then return nil end
local meta = redis.call('HGET', KEYS[1], id)
if not meta then return nil end
local record = redis.call('HGETALL', base .. ':c:' .. id)
local values = {}
for i = 1, #record, 2 do
  if record[i] == 'values' then
    local fields = cjson.decode(record[i + 1])
    -- in slices: unpack() has a limit on how many values it spreads
    for from = 1, #fields, 1000 do
      local slice = {}
      for j = from, math.min(from + 999, #fields) do slice[#slice + 1] = fields[j] end
      local found = redis.call('HMGET', base .. ':values', unpack(slice))
      for j = 1, #slice do
        if found[j] then
          values[#values + 1] = slice[j]
          values[#values + 1] = found[j]
        end
      end
    end
  end
end
return {id, meta, record, values}
