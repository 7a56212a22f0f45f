--[[
  Reads a checkpoint hash (checkpoint, meta, pending writes) or a namespace index whole.

  KEYS[1]  the hash

  Returns a flat list field, value, field, value...; empty when the key does not exist.
]]
return redis.call('HGETALL', KEYS[1])
