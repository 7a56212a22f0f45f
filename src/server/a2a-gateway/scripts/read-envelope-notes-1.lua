--[[
  The notes of the tasks named (see note-envelope-2.lua), in their order.

  KEYS[1]  the notes (a hash: task id -> JSON [tenant digest, context digest])
  ARGV     the task ids

  Returns one note per id: its JSON, or nil for a task with none.
]]
return redis.call('HMGET', KEYS[1], unpack(ARGV))
