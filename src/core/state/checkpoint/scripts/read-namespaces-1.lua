--[[
  The checkpoint namespaces of a thread ("" is the root graph, others are subgraphs).

  KEYS[1]  the thread's namespaces set

  Returns the namespaces, in no particular order.
]]
return redis.call('SMEMBERS', KEYS[1])
