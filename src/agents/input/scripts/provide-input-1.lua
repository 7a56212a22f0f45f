--[[
  Gives input to a task waiting for it: only while the task is input_required, so the first
  answer to a request wins and any later one is refused (as a stale result is by its fence).
  The value joins the record's inputs (a JSON array, spliced as text: the value is never
  re-encoded), the task goes back to pending on no distributor, for the coordinator to place
  on any, and leaves <prefix>input_due. Its answered_key says which request the latest input
  answered, so that a graph resumes the interrupt it was meant for (src/agents/input/).

  KEYS[1]  the shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2]  the task id
  ARGV[3]  the value, JSON

  Keys written: <prefix>task:<id>, <prefix>input_due.
  Returns 1 given; 0 unknown task; or the task's status (a string) when it is not waiting for
  input.
]]
local prefix = ARGV[1]
local id = ARGV[2]
local rec = prefix .. 'task:' .. id
local state = redis.call('HMGET', rec, 'status', 'inputs', 'input_key')
if not state[1] then return 0 end
if state[1] ~= 'input_required' then return state[1] end
local inputs = state[2]
if not inputs or inputs == '' or inputs == '[]' then
  inputs = '[' .. ARGV[3] .. ']'
else
  inputs = string.sub(inputs, 1, -2) .. ',' .. ARGV[3] .. ']'
end
redis.call('HSET', rec, 'status', 'pending', 'inputs', inputs, 'answered_key', state[3] or '')
redis.call('HDEL', rec, 'input_request', 'input_key', 'not_before')
redis.call('ZREM', prefix .. 'input_due', id)
return 1
