--[[
  The id of the checkpoint stored last in a namespace (the one a resumed graph starts from).

  KEYS[1]  the namespace's head

  Returns the checkpoint id, or nil when the namespace has none.
]]
return redis.call('GET', KEYS[1])
