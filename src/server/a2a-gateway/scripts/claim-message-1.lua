--[[
  Claims a client's message for the A2A task it starts, so that the same message sent again
  (a client retrying SendMessage after a timeout, to this coordinator or another) answers that
  task instead of starting a second one. The first claim wins; a claim is kept for its time to
  live and never changed.

  KEYS[1]  the message's claim (a string: the task id), named by a digest of the sender, the
           message's contextId and its messageId
  ARGV[1]  the task id this send would start
  ARGV[2]  how long the claim is kept (ms)

  Returns the task id the message belongs to: ARGV[1] when this send claimed it, else the id
  an earlier send of the same message claimed.
]]
local owner = redis.call('GET', KEYS[1])
if owner then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
